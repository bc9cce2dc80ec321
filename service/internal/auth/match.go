package auth

// Match reports whether channel matches pattern. In a pattern '*' matches any
// run of bytes, empty included and ':' and '/' included; every other byte is
// literal. So "chat:*" matches "chat:a" and "chat:a:b" but not "chat", "*"
// matches everything, and "" matches only "".
//
// Match uses the greedy two-pointer wildcard algorithm: on a mismatch it
// resumes after the most recent '*', consuming one more byte of channel. That
// bounds the work by len(pattern)*len(channel) whatever the pattern, so a
// token cannot make the gateway backtrack exponentially ("a*a*a*a*b").
// Matching bytes rather than runes is exact for UTF-8, whose encoded
// characters never overlap.
func Match(pattern, channel string) bool {
	p, c := 0, 0
	star, resume := -1, 0 // last '*' seen in pattern, and where its run ends in channel
	for c < len(channel) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, resume = p, c
			p++
		case p < len(pattern) && pattern[p] == channel[c]:
			p++
			c++
		case star >= 0:
			// Let the last '*' swallow one more byte and retry what follows it.
			resume++
			p, c = star+1, resume
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchAny reports whether any of patterns matches channel.
func matchAny(patterns []string, channel string) bool {
	for _, p := range patterns {
		if Match(p, channel) {
			return true
		}
	}
	return false
}
