package client

// skipValue returns the length of the JSON value at the very start of b (no
// leading space), checking it against the JSON grammar as encoding/json does.
// Bytes of 0x80 and above inside strings are accepted as they are, as
// encoding/json does for a json.RawMessage. ok is false for anything invalid
// and for nesting deeper than maxDepth.
func skipValue(b []byte) (n int, ok bool) {
	s := valueScanner{b: b}
	for {
		opened, ok := s.value()
		if !ok {
			return 0, false
		}
		if opened {
			continue // the first element of a non-empty container comes next
		}
		more, ok := s.next()
		if !ok {
			return 0, false
		}
		if !more {
			return s.i, true
		}
	}
}

// valueScanner walks one JSON value without recursion. It is used by one
// goroutine and lives on its stack.
type valueScanner struct {
	b     []byte
	i     int
	stack [maxDepth]byte // the closing bracket of each open container
	depth int
}

// value reads a scalar, or an empty container, or the opening of a non-empty
// one (and, for an object, its first key and colon); opened reports the last.
func (s *valueScanner) value() (opened, ok bool) {
	if s.i >= len(s.b) {
		return false, false
	}
	switch c := s.b[s.i]; c {
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		s.space()
		if s.i < len(s.b) && s.b[s.i] == end {
			s.i++
			return false, true
		}
		if s.depth == maxDepth {
			return false, false
		}
		s.stack[s.depth] = end
		s.depth++
		return true, c == '[' || s.key()
	case '"':
		return false, s.str()
	case 't':
		return false, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	default:
		return false, s.number()
	}
}

// next moves past the end of a value: it closes the containers that end
// there and reports whether another element follows (after its comma, and
// for an object after its key and colon).
func (s *valueScanner) next() (more, ok bool) {
	for s.depth > 0 {
		s.space()
		if s.i >= len(s.b) {
			return false, false
		}
		switch c := s.b[s.i]; c {
		case s.stack[s.depth-1]:
			s.depth--
			s.i++
		case ',':
			s.i++
			s.space()
			return true, s.stack[s.depth-1] == ']' || s.key()
		default:
			return false, false
		}
	}
	return false, true
}

// key reads an object key, the colon after it, and the space around it.
func (s *valueScanner) key() bool {
	if !s.str() {
		return false
	}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i++
	s.space()
	return true
}

func (s *valueScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

func (s *valueScanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// str reads a string: control bytes are refused, escapes must be JSON's.
func (s *valueScanner) str() bool {
	b := s.b
	if s.i >= len(b) || b[s.i] != '"' {
		return false
	}
	for i := s.i + 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i <= 4 || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return false
				}
				i += 4
			default:
				return false
			}
		}
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *valueScanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return false
		}
		i = j
	}
	s.i = i
	return true
}

// digits returns the index of the first non-digit at or after i.
func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
