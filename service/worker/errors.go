package worker

import "errors"

// ErrSenderGone is returned by Reply when the sender of a message is no
// longer connected (the API's 404). The handler may then Publish to the
// sender's user channel (user:<id>), which the client recovers.
var ErrSenderGone = errors.New("worker: sender gone")

// permanentError marks a failure that a retry cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return "permanent: " + e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying: the entry goes to the dead
// letters at once. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, came from Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}
