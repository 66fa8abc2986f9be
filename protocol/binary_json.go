package protocol

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
)

// This file is how binary data travels in the JSON encoding: a binary
// publication's data is a base64 string (standard alphabet, padded, RFC
// 4648 section 4) and the message or publication object carries
// "binary":true next to it (docs/protocol.md, section 2.7).

// appendBase64String appends data as a JSON string holding its base64.
func appendBase64String(dst []byte, data []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, '"')
}

// appendPubDataJSON appends `"data":` and a publication's data: its JSON,
// `null` when empty, or for a binary publication its base64 followed by
// `"binary":true`.
func appendPubDataJSON(dst []byte, pub *Publication) []byte {
	dst = append(dst, `"data":`...)
	switch {
	case pub.Binary:
		dst = appendBase64String(dst, pub.Data)
		return append(dst, `,"binary":true`...)
	case len(pub.Data) == 0:
		return append(dst, "null"...)
	default:
		return append(dst, pub.Data...)
	}
}

// MarshalJSON encodes the publication object (docs/protocol.md, section
// 7.1): the encoding/json form of its fields, except that a binary
// publication's data is its base64 with "binary":true.
func (p Publication) MarshalJSON() ([]byte, error) {
	return appendPublicationJSON(make([]byte, 0, 64+len(p.Data)*4/3), &p), nil
}

// appendPublicationJSON appends the publication object that MarshalJSON
// returns.
func appendPublicationJSON(dst []byte, p *Publication) []byte {
	dst = append(dst, '{')
	if p.Offset > 0 {
		dst = append(dst, `"offset":`...)
		dst = strconv.AppendUint(dst, p.Offset, 10)
		dst = append(dst, ',')
	}
	return appendPubRest(dst, p)
}

// publicationFields is Publication without its methods, for decoding.
type publicationFields Publication

var errBadBase64 = errors.New(`protocol: "binary":true needs data as a base64 string`)

// UnmarshalJSON decodes the publication object, base64-decoding the data of
// a binary one.
func (p *Publication) UnmarshalJSON(b []byte) error {
	var f publicationFields
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f.Binary {
		raw, err := decodeBase64JSON(f.Data)
		if err != nil {
			return err
		}
		f.Data = raw
	}
	*p = Publication(f)
	return nil
}

// decodeBase64JSON decodes a JSON string holding base64 (null or absent
// decodes to nil).
func decodeBase64JSON(data json.RawMessage) ([]byte, error) {
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	var raw []byte
	if data[0] != '"' || json.Unmarshal(data, &raw) != nil {
		return nil, errBadBase64
	}
	return raw, nil
}

// DecodeReplyFrame decodes one JSON server message (a reply or a push)
// into f, which it resets first. A binary publication's base64 data is
// decoded: f.Data then holds its bytes, with f.Binary set, as
// DecodeReplyFrameProtobuf gives it.
func DecodeReplyFrame(msg []byte, f *ReplyFrame) error {
	*f = ReplyFrame{}
	if err := json.Unmarshal(msg, f); err != nil {
		return err
	}
	if f.Binary {
		raw, err := decodeBase64JSON(f.Data)
		if err != nil {
			return err
		}
		f.Data = raw
	}
	return nil
}
