package protocol

import "strconv"

// appendSubscribeReply appends the JSON reply to subscribe whose result is
// res: what encoding/json writes for the Reply, except that the
// publications of a recovery go out as every pub push sends them, without
// encoding/json validating and compacting each one again (their data was
// checked when it was published; like a pub push, the reply leaves a
// `<`, `>` or `&` inside data as the publisher wrote it, where
// encoding/json would write it as \u003c, \u003e or \u0026). A
// recovery carries up to the history's size of publications, and that
// second pass over them was 14% of a node's CPU in a reconnect storm
// (docs/benchmarks.md, "Reconnect storms and idle memory").
func appendSubscribeReply(dst []byte, id uint64, res *SubscribeResult) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendUint(dst, id, 10)
	dst = append(dst, `,"result":{`...)
	first := len(dst)
	sep := func() {
		if len(dst) > first {
			dst = append(dst, ',')
		}
	}
	if res.Offset > 0 {
		dst = append(dst, `"offset":`...)
		dst = strconv.AppendUint(dst, res.Offset, 10)
	}
	if res.Epoch != "" {
		sep()
		dst = append(dst, `"epoch":`...)
		dst = AppendString(dst, res.Epoch)
	}
	if res.Recoverable {
		sep()
		dst = append(dst, `"recoverable":true`...)
	}
	if res.Recovered {
		sep()
		dst = append(dst, `"recovered":true`...)
	}
	if len(res.Publications) > 0 {
		sep()
		dst = append(dst, `"publications":[`...)
		for i, p := range res.Publications {
			if i > 0 {
				dst = append(dst, ',')
			}
			if p == nil {
				dst = append(dst, "null"...)
				continue
			}
			dst = appendPublicationJSON(dst, p)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}', '}')
}

// subscribeReplySize is about the length of res's reply: the buffer
// appendSubscribeReply fills without growing it, in the common case.
func subscribeReplySize(res *SubscribeResult) int {
	n := 96 + len(res.Epoch)
	for _, p := range res.Publications {
		if p != nil {
			n += 96 + len(p.Data)*4/3 + len(p.Key)
			if p.Info != nil {
				n += 48 + len(p.Info.Client) + len(p.Info.User) + len(p.Info.Data)
			}
		}
	}
	return n
}
