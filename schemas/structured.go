package schemas

import (
	"encoding/json"
	"fmt"
	"reflect"
)

// MarshalStructured encodes the envelope in CloudEvents structured content
// mode: one JSON object with the attributes and "data". It is the line format
// of the JSON-lines publishing CLI and of the testdata fixtures.
func MarshalStructured(e Envelope) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("marshal structured event %q: %w: %w", e.ID, ErrMalformed, err)
	}
	return b, nil
}

// structuredIn accepts what Envelope does plus data_base64, only so we can
// say clearly that binary data is not part of our contract.
type structuredIn struct {
	Envelope
	DataBase64 *string `json:"data_base64"`
}

// UnmarshalStructured decodes one structured-mode event. Unknown attributes
// are ignored (CloudEvents allows extensions we do not know).
func UnmarshalStructured(b []byte) (Envelope, error) {
	var in structuredIn
	if err := json.Unmarshal(b, &in); err != nil {
		if field := memberOf(b, reflect.TypeFor[Envelope](), envelopeFields, ""); field != "" {
			return Envelope{}, fmt.Errorf("unmarshal structured event: %w", &FieldError{Scope: "envelope", Field: field,
				Reason: "does not decode: " + err.Error(), Kind: ErrMalformed})
		}
		return Envelope{}, fmt.Errorf("unmarshal structured event: %w: %w", ErrMalformed, err)
	}
	if fe := checkJSON(b, envelopeFields); fe != nil {
		fe.Scope = "envelope"
		return Envelope{}, fmt.Errorf("unmarshal structured event: %w", fe)
	}
	if in.DataBase64 != nil {
		return Envelope{}, &FieldError{Scope: "envelope", Field: "data_base64",
			Reason: "is not supported: data must be JSON", Kind: ErrInvalid}
	}
	return in.Envelope, nil
}
