package hooks

import (
	"encoding/json"
	"errors"
)

func (r *Route) body(req Request) ([]byte, error) { return json.Marshal(req) }

func (r *Route) parse(raw []byte) (Answer, error) { return Answer{}, errors.New("todo") }
