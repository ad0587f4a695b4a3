// Package codec turns string maps into bytes and back, one key=value pair per line.
package codec

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// Encode writes every pair as a line "key=value".
func Encode(pairs map[string]string) []byte {
	var buf bytes.Buffer
	for k, v := range pairs {
		fmt.Fprintf(&buf, "%s=%s\n", k, v)
	}
	return buf.Bytes()
}

// Decode reads the lines Encode wrote.
func Decode(data []byte) (map[string]string, error) {
	out := map[string]string{}
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), "=")
		if !ok {
			return nil, fmt.Errorf("malformed line %q", scanner.Text())
		}
		out[key] = value
	}
	return out, scanner.Err()
}
