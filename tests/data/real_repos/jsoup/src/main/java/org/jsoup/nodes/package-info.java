/**
 HTML document structure nodes.
 */
@NullMarked
package org.jsoup.nodes;

import org.jspecify.annotations.NullMarked;
