package main

// Renumbering of the user type ids in a client's gob stream (PROTOCOL.md §8 #14). Only type
// ids change: definitions are walked field by field (wireType, CommonType, arrayType,
// sliceType, structType, fieldType, mapType, PROTOCOL.md §3.4) and the leading id of each value
// message is replaced. The result is checked by decoding it with encoding/gob.

import (
	"bytes"
	"fmt"
)

type gobReader struct {
	b   []byte
	pos int
}

func (r *gobReader) uint() (uint64, error) {
	if r.pos >= len(r.b) {
		return 0, fmt.Errorf("truncated at %d", r.pos)
	}
	c := r.b[r.pos]
	r.pos++
	if c < 0x80 {
		return uint64(c), nil
	}
	n := int(-int8(c))
	if n > 8 || r.pos+n > len(r.b) {
		return 0, fmt.Errorf("bad uint length %d at %d", n, r.pos)
	}
	var v uint64
	for i := 0; i < n; i++ {
		v = v<<8 | uint64(r.b[r.pos])
		r.pos++
	}
	return v, nil
}

func (r *gobReader) int() (int64, error) {
	u, err := r.uint()
	if err != nil {
		return 0, err
	}
	if u&1 != 0 {
		return ^int64(u >> 1), nil
	}
	return int64(u >> 1), nil
}

func appendUint(out []byte, v uint64) []byte {
	if v < 0x80 {
		return append(out, byte(v))
	}
	var tmp [8]byte
	n := 0
	for x := v; x > 0; x >>= 8 {
		n++
	}
	for i := 0; i < n; i++ {
		tmp[i] = byte(v >> (8 * uint(n-1-i)))
	}
	out = append(out, byte(-int8(n)))
	return append(out, tmp[:n]...)
}

func appendInt(out []byte, i int64) []byte {
	var u uint64
	if i < 0 {
		u = uint64(^i)<<1 | 1
	} else {
		u = uint64(i) << 1
	}
	return appendUint(out, u)
}

// renumberer rewrites one message at a time.
type renumberer struct {
	mapping func(int64) int64
	r       *gobReader
	out     []byte
	// what the walk saw of a definition
	kind   int
	name   string
	fields []fieldInfo
}

// fieldInfo is one field of a struct definition.
type fieldInfo struct {
	Name string
	Id   int64
}

func (w *renumberer) copyUint() (uint64, error) {
	v, err := w.r.uint()
	if err == nil {
		w.out = appendUint(w.out, v)
	}
	return v, err
}

func (w *renumberer) copyString() error {
	_, err := w.copyStr()
	return err
}

func (w *renumberer) copyStr() (string, error) {
	n, err := w.copyUint()
	if err != nil {
		return "", err
	}
	if n > uint64(len(w.r.b)-w.r.pos) {
		return "", fmt.Errorf("string overruns message")
	}
	s := string(w.r.b[w.r.pos : w.r.pos+int(n)])
	w.out = append(w.out, s...)
	w.r.pos += int(n)
	return s, nil
}

func (w *renumberer) mapId() error {
	_, err := w.mapIdValue()
	return err
}

func (w *renumberer) mapIdValue() (int64, error) {
	id, err := w.r.int()
	if err != nil {
		return 0, err
	}
	w.out = appendInt(w.out, w.mapping(id))
	return id, nil
}

func (w *renumberer) copyInt() error {
	v, err := w.r.int()
	if err == nil {
		w.out = appendInt(w.out, v)
	}
	return err
}

// walkStruct copies a struct value, calling field for each present field number.
func (w *renumberer) walkStruct(field func(n int) error) error {
	n := -1
	for {
		d, err := w.copyUint()
		if err != nil {
			return err
		}
		if d == 0 {
			return nil
		}
		n += int(d)
		if err := field(n); err != nil {
			return err
		}
	}
}

func (w *renumberer) commonType() error {
	return w.walkStruct(func(n int) error {
		switch n {
		case 0:
			name, err := w.copyStr()
			w.name = name
			return err
		case 1:
			return w.mapId()
		}
		return fmt.Errorf("CommonType field %d", n)
	})
}

// typeStruct walks arrayType, sliceType, structType, mapType or gobEncoderType; refs lists the
// field numbers holding type ids.
func (w *renumberer) typeStruct(kind int) error {
	return w.walkStruct(func(n int) error {
		if n == 0 {
			return w.commonType()
		}
		switch {
		case kind == 0 && n == 1, kind == 1 && n == 1, kind == 3 && (n == 1 || n == 2):
			return w.mapId()
		case kind == 0 && n == 2:
			return w.copyInt()
		case kind == 2 && n == 1:
			count, err := w.copyUint()
			if err != nil {
				return err
			}
			for i := uint64(0); i < count; i++ {
				var fi fieldInfo
				err := w.walkStruct(func(f int) error {
					var err error
					switch f {
					case 0:
						fi.Name, err = w.copyStr()
						return err
					case 1:
						fi.Id, err = w.mapIdValue()
						return err
					}
					return fmt.Errorf("fieldType field %d", f)
				})
				w.fields = append(w.fields, fi)
				if err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("type kind %d field %d", kind, n)
	})
}

// renumberMessage rewrites one whole gob message (with its length prefix).
func renumberMessage(msg []byte, mapping func(int64) int64) ([]byte, error) {
	r := &gobReader{b: msg}
	n, err := r.uint()
	if err != nil {
		return nil, err
	}
	if int(n) != len(msg)-r.pos {
		return nil, fmt.Errorf("message length %d, have %d bytes", n, len(msg)-r.pos)
	}
	w := &renumberer{mapping: mapping, r: r}
	id, err := r.int()
	if err != nil {
		return nil, err
	}
	if id >= 0 {
		w.out = appendInt(w.out, mapping(id))
		w.out = append(w.out, msg[r.pos:]...)
	} else {
		w.out = appendInt(w.out, -mapping(-id))
		err := w.walkStruct(func(kind int) error {
			if kind > 6 {
				return fmt.Errorf("wireType field %d", kind)
			}
			w.kind = kind
			return w.typeStruct(kind)
		})
		if err != nil {
			return nil, err
		}
		if r.pos != len(msg) {
			return nil, fmt.Errorf("extra data after definition")
		}
	}
	return append(appendUint(nil, uint64(len(w.out))), w.out...), nil
}

// Definition is what a type definition message says.
type Definition struct {
	Id     int64
	Kind   int // wireType field: 0 array, 1 slice, 2 struct, 3 map, 4-6 marshalers
	Name   string
	Fields []fieldInfo // for structs, in field-number order
}

// splitMessages cuts a gob stream into whole messages (with their length prefixes); a trailing
// partial message is dropped.
func splitMessages(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		r := &gobReader{b: b}
		n, err := r.uint()
		if err != nil || n > uint64(len(b)-r.pos) {
			return out, nil
		}
		end := r.pos + int(n)
		out = append(out, b[:end])
		b = b[end:]
	}
	return out, nil
}

// messageId returns the leading id of a whole message: negative for a definition.
func messageId(msg []byte) (int64, error) {
	r := &gobReader{b: msg}
	if _, err := r.uint(); err != nil {
		return 0, err
	}
	return r.int()
}

// parseDefinition describes a definition message.
func parseDefinition(msg []byte) (Definition, error) {
	r := &gobReader{b: msg}
	if _, err := r.uint(); err != nil {
		return Definition{}, err
	}
	id, err := r.int()
	if err != nil || id >= 0 {
		return Definition{}, fmt.Errorf("not a definition")
	}
	w := &renumberer{mapping: func(i int64) int64 { return i }, r: r}
	err = w.walkStruct(func(kind int) error {
		if kind > 6 {
			return fmt.Errorf("wireType field %d", kind)
		}
		w.kind = kind
		return w.typeStruct(kind)
	})
	if err != nil {
		return Definition{}, err
	}
	return Definition{Id: -id, Kind: w.kind, Name: w.name, Fields: w.fields}, nil
}

// checklist14 is the renumbering of PROTOCOL.md §8 #14 (65→300, 66→77, 67→1000); other user
// ids move up by 2000; predefined ids stay.
func checklist14(id int64) int64 {
	switch {
	case id == 65:
		return 300
	case id == 66:
		return 77
	case id == 67:
		return 1000
	case id >= 64:
		return id + 2000
	}
	return id
}

// renumberAll rewrites a list of messages.
func renumberAll(msgs [][]byte, mapping func(int64) int64) ([][]byte, error) {
	out := make([][]byte, len(msgs))
	for i, m := range msgs {
		r, err := renumberMessage(m, mapping)
		if err != nil {
			return nil, fmt.Errorf("message %d (%x): %v", i, m, err)
		}
		out[i] = r
	}
	return out, nil
}

func joinBytes(msgs [][]byte) []byte { return bytes.Join(msgs, nil) }
