package auth

import "errors"

// ErrInvalidSubject means a token's sub is not a usable user id: see
// validSubject.
var ErrInvalidSubject = errors.New("token sub is not 1-250 bytes of [A-Za-z0-9_:.-@=/]")

// maxSubjectLen keeps "user:<sub>" within the 255-byte channel limit, so a
// user's personal channel is always a valid channel name.
const maxSubjectLen = 255 - len(personalPrefix)

// validSubject reports whether sub is 1 to maxSubjectLen bytes of the
// channel character set [A-Za-z0-9_:.-@=/]. The user id is shown to other
// users (presence, the user of a publication) and names the personal
// channel, so control characters, bidi overrides, spaces and look-alike
// letters are refused at the door. The set must stay the channel character
// set of the protocol package (this package imports nothing of ours).
func validSubject(sub string) bool {
	if len(sub) == 0 || len(sub) > maxSubjectLen {
		return false
	}
	for i := 0; i < len(sub); i++ {
		if !subjectByte(sub[i]) {
			return false
		}
	}
	return true
}

func subjectByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '_', ':', '.', '-', '@', '=', '/':
		return true
	}
	return false
}
