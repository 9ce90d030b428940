package main

// Parsing of the wire captures in testdata/wire (format: testdata/wire/README.md).

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Line is one message line of a capture.
type Line struct {
	No         int    // 1-based line number in the file
	Dir        string // "C>S" or "S>C"
	Payload    []byte // the exact bytes (hex decoded, or the quoted string unescaped)
	Close      bool   // payload "<close>"
	Annotation string
}

// Tag is the annotation's leading tag, e.g. "[moved]", or "".
func (l Line) Tag() string {
	if strings.HasPrefix(l.Annotation, "[") {
		if i := strings.Index(l.Annotation, "]"); i > 0 {
			return l.Annotation[:i+1]
		}
	}
	return ""
}

// Connection is a "== title" section of a capture.
type Connection struct {
	Title string
	Lines []Line
}

// ParseCapture reads a capture file into its connections.
func ParseCapture(path string) ([]Connection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var conns []Connection
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	no := 0
	for sc.Scan() {
		no++
		text := sc.Text()
		switch {
		case text == "" || strings.HasPrefix(text, "#"):
			continue
		case strings.HasPrefix(text, "== "):
			conns = append(conns, Connection{Title: strings.TrimPrefix(text, "== ")})
			continue
		}
		if len(conns) == 0 {
			return nil, fmt.Errorf("%s:%d: message before the first connection", path, no)
		}
		l, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, no, err)
		}
		l.No = no
		conns[len(conns)-1].Lines = append(conns[len(conns)-1].Lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return conns, nil
}

func parseLine(text string) (Line, error) {
	if len(text) < 5 || (text[:4] != "C>S " && text[:4] != "S>C ") {
		return Line{}, fmt.Errorf("not a message line: %q", text)
	}
	l := Line{Dir: text[:3]}
	rest := text[4:]
	payload := rest
	if i := strings.LastIndex(rest, " # "); i >= 0 {
		l.Annotation = rest[i+3:]
		payload = rest[:i]
	}
	switch {
	case payload == "<close>":
		l.Close = true
	case strings.HasPrefix(payload, `"`):
		s, err := unquote(payload)
		if err != nil {
			return Line{}, err
		}
		l.Payload = []byte(s)
	default:
		b, err := hex.DecodeString(payload)
		if err != nil {
			return Line{}, fmt.Errorf("bad hex: %v", err)
		}
		l.Payload = b
	}
	return l, nil
}

// unquote undoes the capture's quoting: only \r, \n, \" and \\ are escapes.
func unquote(q string) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", fmt.Errorf("bad quoted payload %q", q)
	}
	var b strings.Builder
	body := q[1 : len(q)-1]
	for i := 0; i < len(body); i++ {
		ch := body[i]
		if ch != '\\' {
			b.WriteByte(ch)
			continue
		}
		i++
		if i == len(body) {
			return "", fmt.Errorf("dangling escape in %q", q)
		}
		switch body[i] {
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case '"':
			b.WriteByte('"')
		case '\\':
			b.WriteByte('\\')
		default:
			return "", fmt.Errorf("unknown escape \\%c in %q", body[i], q)
		}
	}
	return b.String(), nil
}
