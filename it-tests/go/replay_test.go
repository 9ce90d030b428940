package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func captures(t *testing.T) []string {
	files, err := filepath.Glob("../../testdata/wire/gob-*.txt")
	if err != nil || len(files) != 7 {
		t.Fatalf("gob captures: %v %v", files, err)
	}
	return files
}

// recordedSteps parses a capture into its client messages and recorded server frames.
func recordedSteps(t *testing.T, file string) ([][]byte, []expFrame) {
	conns, err := ParseCapture(file)
	if err != nil {
		t.Fatal(err)
	}
	var client [][]byte
	var server []Line
	for _, l := range conns[0].Lines[2:] {
		if l.Dir == "C>S" {
			client = append(client, l.Payload)
		} else {
			server = append(server, l)
		}
	}
	exp, err := decodeServerSteps([][]Line{server})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return client, exp
}

func TestCapturesDecodeAndMatchThemselves(t *testing.T) {
	for _, f := range captures(t) {
		client, exp := recordedSteps(t, f)
		reqs, err := decodeClientStream(client)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(reqs) == 0 || len(exp) == 0 {
			t.Fatalf("%s: nothing decoded", f)
		}
		actual := map[uint64][]Frame{}
		for _, e := range exp {
			actual[e.Header.Seq] = append(actual[e.Header.Seq], e.Frame)
		}
		if err := compareReplay(exp, actual); err != nil {
			t.Errorf("%s: the recording does not match itself: %v", f, err)
		}
	}
}

func TestSubscribeCaptureContent(t *testing.T) {
	_, exp := recordedSteps(t, "../../testdata/wire/gob-subscribe.txt")
	var items []ServiceUpdate
	for _, e := range exp {
		if e.Header.Seq == 3 {
			items = append(items, e.Body.(ServiceUpdate))
		}
	}
	if len(items) != 4 || !items[2].isSentinel() || items[0].Addr != "127.0.0.1:8080" || items[3].Attrs["foo"] != "baz" || items[3].Created != items[0].Created {
		t.Fatalf("unexpected stream %v", items)
	}
}

func TestCreatedRelationAndStoreErrorPrefix(t *testing.T) {
	_, exp := recordedSteps(t, "../../testdata/wire/gob-unregister.txt")
	actual := map[uint64][]Frame{}
	for _, e := range exp {
		f := e.Frame
		if u, ok := f.Body.(ServiceUpdate); ok && u.Created != 0 {
			u.Created += 1000 // other numbers, same order: fine
			f.Body = u
		}
		if strings.HasPrefix(f.Header.Error, keyNotFound) {
			f.Header.Error = keyNotFound + "/discoverd/services/web/10.9.9.9:1)"
		}
		actual[f.Header.Seq] = append(actual[f.Header.Seq], f)
	}
	if err := compareReplay(exp, actual); err != nil {
		t.Fatalf("equivalent output rejected: %v", err)
	}
	// swap the Created values of the two snapshot items: the order is now wrong
	s := actual[3]
	a, b := s[0].Body.(ServiceUpdate), s[1].Body.(ServiceUpdate)
	a.Created, b.Created = b.Created, a.Created
	s[0].Body, s[1].Body = a, b
	if err := compareReplay(exp, actual); err == nil || !strings.Contains(err.Error(), "Created order") {
		t.Fatalf("wrong Created order accepted: %v", err)
	}
	// snapshot order swapped (with their Created): accepted
	a.Created, b.Created = b.Created, a.Created
	s[0].Body, s[1].Body = b, a
	if err := compareReplay(exp, actual); err != nil {
		t.Fatalf("snapshot in another order rejected: %v", err)
	}
	// an extra item
	actual[3] = append(actual[3], actual[3][len(actual[3])-1])
	if err := compareReplay(exp, actual); err == nil {
		t.Fatal("extra item accepted")
	}
}

func TestRenumberedStreamsDecodeIdentically(t *testing.T) {
	for _, f := range captures(t) {
		client, _ := recordedSteps(t, f)
		re, err := renumberAll(client, checklist14)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want, _ := decodeClientStream(client)
		got, err := decodeClientStream(re)
		if err != nil {
			t.Fatalf("%s: renumbered: %v", f, err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d requests, want %d", f, len(got), len(want))
		}
		if bytes.Equal(joinBytes(client), joinBytes(re)) {
			t.Fatalf("%s: nothing renumbered", f)
		}
	}
	// 65 -> 300 is ff 02 58 as an int definition id of -300: ^(-300)<<1|1 = 599 = fe 02 57
	m, _ := renumberMessage([]byte{0x03, 0xff, 0x82, 0x00}, checklist14)
	if !bytes.Equal(m, []byte{0x04, 0xfe, 0x02, 0x58, 0x00}) {
		t.Fatalf("value id 65 renumbered to %x", m)
	}
}

func TestQuotedPayloads(t *testing.T) {
	s, err := unquote(`"a\r\n\"\\b"`)
	if err != nil || s != "a\r\n\"\\b" {
		t.Fatalf("%q %v", s, err)
	}
}

func TestRecordedResponseDefinition(t *testing.T) {
	conns, err := ParseCapture("../../testdata/wire/gob-register.txt")
	if err != nil {
		t.Fatal(err)
	}
	var server []byte
	for _, l := range conns[0].Lines[2:] {
		if l.Dir == "S>C" {
			server = append(server, l.Payload...)
		}
	}
	if err := checkResponseDefinition(server); err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(server, []byte{0x03, 0x53, 0x65, 0x71, 0x01, 0x06}, []byte{0x03, 0x53, 0x65, 0x71, 0x01, 0x04}, 1)
	if err := checkResponseDefinition(bad); err == nil {
		t.Fatal("Seq as int accepted")
	}
}
