package report

// appendIndent appends to dst the compact JSON document src (as
// json.Marshal writes it: no whitespace outside strings) indented as
// json.Indent(dst, src, prefix, "  ") indents it: a newline, prefix and two
// spaces per level before every element and closing bracket of a non-empty
// object or array, ": " after every key. It is json.Indent without the
// validating scanner, several times faster; src must be valid compact JSON.
func appendIndent(dst, src []byte, prefix string) []byte {
	depth := 0
	newline := func(dst []byte) []byte {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		n := 2 * depth
		for n > len(spaces) {
			dst = append(dst, spaces...)
			n -= len(spaces)
		}
		return append(dst, spaces[:n]...)
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '"':
			// Copy the string whole, escapes included.
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			if i+1 < len(src) && (src[i+1] == '}' || src[i+1] == ']') {
				dst = append(dst, src[i+1])
				i++
				continue
			}
			depth++
			dst = newline(dst)
		case '}', ']':
			depth--
			dst = newline(dst)
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			dst = newline(dst)
		case ':':
			dst = append(dst, ':', ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// spaces is indentation for appendIndent, sixteen levels at a time.
const spaces = "                                "
