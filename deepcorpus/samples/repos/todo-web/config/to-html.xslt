<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:template match="/config">
    <ul><xsl:for-each select="setting"><li><xsl:value-of select="@name"/></li></xsl:for-each></ul>
  </xsl:template>
</xsl:stylesheet>
