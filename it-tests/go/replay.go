package main

// The replay subcommand: sends a capture's client bytes verbatim and judges the daemon's
// answers by decoding them with encoding/gob and comparing them by value with the recorded
// answers of the original, themselves decoded by a fresh gob.Decoder (testdata/wire/README.md).

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"net"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
)

// ReplayOptions select the variants of a replay.
type ReplayOptions struct {
	Renumber bool // rewrite the client's type ids (PROTOCOL.md §8 #14)
	OneWrite bool // CONNECT and the first request group in one write (PROTOCOL.md §8 #9)
	Clean    bool // unregister what the capture's names hold before replaying
}

// clientRequest is one request decoded from the capture's client stream.
type clientRequest struct {
	Header  Request
	Body    interface{}
	LastMsg int // index of its last message in the client stream
}

// decodeClientStream decodes the C>S gob messages as a Go server would, to learn where each
// request ends and what it asks for.
func decodeClientStream(msgs [][]byte) ([]clientRequest, error) {
	var buf bytes.Buffer
	ends := make([]int, len(msgs)) // cumulative end offset of each message
	for i, m := range msgs {
		buf.Write(m)
		ends[i] = buf.Len()
	}
	total := buf.Len()
	msgAt := func(consumed int) int { return sort.SearchInts(ends, consumed) }
	dec := gob.NewDecoder(&buf)
	var out []clientRequest
	for buf.Len() > 0 {
		var h Request
		if err := dec.Decode(&h); err != nil {
			return nil, fmt.Errorf("request header %d: %v", len(out), err)
		}
		var body interface{} = new(Args)
		if h.ServiceMethod == "CloseStream" {
			body = new(Empty)
		}
		if err := dec.Decode(body); err != nil {
			return nil, fmt.Errorf("request body of %+v: %v", h, err)
		}
		out = append(out, clientRequest{Header: h, Body: deref(body), LastMsg: msgAt(total - buf.Len())})
	}
	return out, nil
}

// expFrame is a recorded server frame.
type expFrame struct {
	Frame
	step int
	tag  string // "", "[original-only]" or "[conforming-only]"
}

// decodeServerSteps decodes the recorded S>C gob lines, step by step, with one fresh decoder.
func decodeServerSteps(steps [][]Line) ([]expFrame, error) {
	var buf bytes.Buffer
	dec := gob.NewDecoder(&buf)
	var out []expFrame
	for si, lines := range steps {
		var tags []string
		var ends []int
		base := 0
		for _, l := range lines {
			buf.Write(l.Payload)
			tags = append(tags, l.Tag())
			ends = append(ends, buf.Len())
		}
		total := buf.Len()
		for buf.Len() > 0 {
			from := total - buf.Len()
			var h Response
			if err := dec.Decode(&h); err != nil {
				return nil, fmt.Errorf("recorded header: %v", err)
			}
			body := bodyFor(h.ServiceMethod, h.Error)
			if err := dec.Decode(body); err != nil {
				return nil, fmt.Errorf("recorded body of %+v: %v", h, err)
			}
			to := total - buf.Len()
			tag := ""
			for i := range lines {
				start := base
				if i > 0 {
					start = ends[i-1]
				}
				if ends[i] > from && start < to && (tags[i] == "[original-only]" || tags[i] == "[conforming-only]") {
					tag = tags[i]
				}
			}
			out = append(out, expFrame{Frame: Frame{Header: h, Body: deref(body)}, step: si, tag: tag})
		}
		buf.Reset()
	}
	return out, nil
}

// replayStep is a group of client messages and the recorded server lines that followed it.
type replayStep struct {
	from, to   int // client message indices [from, to)
	serverLine []Line
	closeSeq   *uint64 // the step ends with a CloseStream for this Seq
}

// recorder collects the daemon's decoded frames per Seq.
type recorder struct {
	mu      sync.Mutex
	bySeq   map[uint64][]Frame
	order   []Frame
	err     error
	changed chan struct{}
}

func (r *recorder) run(dec *gob.Decoder) {
	for {
		var h Response
		if err := dec.Decode(&h); err != nil {
			r.stop(err)
			return
		}
		body := bodyFor(h.ServiceMethod, h.Error)
		if err := dec.Decode(body); err != nil {
			r.stop(fmt.Errorf("body of %+v: %v", h, err))
			return
		}
		f := Frame{Header: h, Body: deref(body), At: time.Now()}
		r.mu.Lock()
		r.bySeq[h.Seq] = append(r.bySeq[h.Seq], f)
		r.order = append(r.order, f)
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}
}

func (r *recorder) stop(err error) {
	r.mu.Lock()
	r.err = err
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// await waits until cond (called under the lock) holds.
func (r *recorder) await(d time.Duration, cond func() bool) bool {
	deadline := time.After(d)
	for {
		r.mu.Lock()
		ok := cond()
		ch := r.changed
		r.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

func runReplay(addr, file string, opt ReplayOptions) error {
	conns, err := ParseCapture(file)
	if err != nil {
		return err
	}
	if len(conns) != 1 {
		return fmt.Errorf("%s: %d connections, want 1", file, len(conns))
	}
	lines := conns[0].Lines
	if len(lines) < 2 || lines[0].Dir != "C>S" || lines[1].Dir != "S>C" {
		return fmt.Errorf("%s: does not start with the handshake", file)
	}
	handshake, answer := lines[0].Payload, lines[1].Payload

	// Group the gob lines into steps.
	var clientMsgs [][]byte
	var steps []replayStep
	for _, l := range lines[2:] {
		if l.Close {
			return fmt.Errorf("%s:%d: <close> not supported in gob replays", file, l.No)
		}
		if l.Dir == "C>S" {
			if len(steps) == 0 || len(steps[len(steps)-1].serverLine) > 0 {
				steps = append(steps, replayStep{from: len(clientMsgs), to: len(clientMsgs)})
			}
			clientMsgs = append(clientMsgs, l.Payload)
			steps[len(steps)-1].to = len(clientMsgs)
		} else {
			if len(steps) == 0 {
				return fmt.Errorf("%s:%d: server message before any request", file, l.No)
			}
			steps[len(steps)-1].serverLine = append(steps[len(steps)-1].serverLine, l)
		}
	}
	requests, err := decodeClientStream(clientMsgs)
	if err != nil {
		return fmt.Errorf("%s: client stream: %v", file, err)
	}
	// Split steps after each CloseStream: a conforming server ends the stream promptly (§2.4),
	// so the replay waits for that final frame before sending more.
	var split []replayStep
	for _, st := range steps {
		cur := replayStep{from: st.from}
		for _, rq := range requests {
			if rq.Header.ServiceMethod == "CloseStream" && rq.LastMsg >= st.from && rq.LastMsg < st.to-1 {
				seq := rq.Header.Seq
				cur.to = rq.LastMsg + 1
				cur.closeSeq = &seq
				split = append(split, cur)
				cur = replayStep{from: rq.LastMsg + 1}
			} else if rq.Header.ServiceMethod == "CloseStream" && rq.LastMsg == st.to-1 {
				seq := rq.Header.Seq
				cur.closeSeq = &seq
			}
		}
		cur.to = st.to
		cur.serverLine = st.serverLine
		split = append(split, cur)
	}
	steps = split
	var serverSteps [][]Line
	for _, st := range steps {
		serverSteps = append(serverSteps, st.serverLine)
	}
	expected, err := decodeServerSteps(serverSteps)
	if err != nil {
		return fmt.Errorf("%s: recorded server stream: %v", file, err)
	}

	wire := clientMsgs
	if opt.Renumber {
		wire, err = renumberAll(clientMsgs, checklist14)
		if err != nil {
			return err
		}
		again, err := decodeClientStream(wire)
		if err != nil {
			return fmt.Errorf("renumbered stream does not decode: %v", err)
		}
		for i := range again {
			if !reflect.DeepEqual(again[i].Header, requests[i].Header) || !reflect.DeepEqual(again[i].Body, requests[i].Body) {
				return fmt.Errorf("renumbered request %d decodes as %+v %+v, want %+v %+v", i, again[i].Header, again[i].Body, requests[i].Header, requests[i].Body)
			}
		}
	}

	if opt.Clean {
		names := map[string]bool{}
		for _, rq := range requests {
			if a, ok := rq.Body.(Args); ok && strings.HasPrefix(rq.Header.ServiceMethod, "Agent.") {
				names[a.Name] = true
			}
		}
		for n := range names {
			if err := cleanName(addr, n); err != nil {
				return fmt.Errorf("cleaning %q before the replay: %v", n, err)
			}
		}
	}

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	first := 0
	if opt.OneWrite {
		one := append(append([]byte{}, handshake...), joinBytes(wire[steps[0].from:steps[0].to])...)
		if _, err := conn.Write(one); err != nil {
			return err
		}
		first = 1
	} else if _, err := conn.Write(handshake); err != nil {
		return err
	}
	if err := ReadConnectedExact(conn, answer); err != nil {
		return err
	}
	rec := &recorder{bySeq: map[uint64][]Frame{}, changed: make(chan struct{})}
	tap := &lockedBuffer{}
	go rec.run(gob.NewDecoder(bufio.NewReader(io.TeeReader(conn, tap))))

	wantCount := map[uint64]int{}
	for si, st := range steps {
		if si >= first {
			for _, m := range wire[st.from:st.to] {
				if _, err := conn.Write(m); err != nil {
					return fmt.Errorf("write: %v", err)
				}
			}
		}
		if st.closeSeq != nil {
			seq := *st.closeSeq
			ok := rec.await(time.Second, func() bool {
				fs := rec.bySeq[seq]
				return rec.err != nil || (len(fs) > 0 && fs[len(fs)-1].Header.Error != "")
			})
			if !ok {
				return fmt.Errorf("#38: no final frame for stream Seq %d within 1s of CloseStream", seq)
			}
		}
		for _, e := range expected {
			if e.step == si && e.tag != "[original-only]" {
				wantCount[e.Header.Seq]++
			}
		}
		want := copyCounts(wantCount)
		ok := rec.await(5*time.Second, func() bool {
			if rec.err != nil {
				return true
			}
			for seq, n := range want {
				if len(rec.bySeq[seq]) < n {
					return false
				}
			}
			return true
		})
		rec.mu.Lock()
		rerr := rec.err
		rec.mu.Unlock()
		if rerr != nil {
			return fmt.Errorf("connection failed after step %d: %v\nreceived so far:\n%s", si, rerr, dumpFrames(rec))
		}
		if !ok {
			return fmt.Errorf("step %d: responses missing after 5s; want per Seq %v\nreceived:\n%s", si, want, dumpFrames(rec))
		}
	}
	// Anything more (an item after a heartbeat, after EOS, ...) must show within this time.
	time.Sleep(500 * time.Millisecond)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.err != nil {
		return fmt.Errorf("connection failed: %v", rec.err)
	}
	if err := compareReplay(expected, rec.bySeq); err != nil {
		return err
	}
	return checkResponseDefinition(tap.Bytes())
}

// checkResponseDefinition checks that the type of the first response header is defined as a
// struct {ServiceMethod string; Seq uint; Error string} (PROTOCOL.md §8 #10, §3.8).
func checkResponseDefinition(stream []byte) error {
	msgs, _ := splitMessages(stream)
	defs := map[int64]Definition{}
	for _, m := range msgs {
		id, err := messageId(m)
		if err != nil {
			return err
		}
		if id < 0 {
			d, err := parseDefinition(m)
			if err != nil {
				return fmt.Errorf("server definition %x: %v", m, err)
			}
			defs[d.Id] = d
			continue
		}
		d, ok := defs[id]
		if !ok {
			return fmt.Errorf("first server value uses type %d before defining it", id)
		}
		want := []fieldInfo{{"ServiceMethod", 6}, {"Seq", 3}, {"Error", 6}}
		if d.Kind != 2 || !reflect.DeepEqual(d.Fields, want) {
			return fmt.Errorf("the server's Response definition is %+v, want a struct with fields %v", d, want)
		}
		return nil
	}
	return fmt.Errorf("the server sent no value")
}

// lockedBuffer is a bytes.Buffer safe for one writer and other readers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]byte(nil), b.buf.Bytes()...)
}

// ReadConnectedExact reads len(want) bytes and compares them with the recorded answer.
func ReadConnectedExact(conn net.Conn, want []byte) error {
	if string(want) != connectedLine {
		return fmt.Errorf("recorded answer %q is not the 200 line", want)
	}
	return ReadConnected(conn)
}

func copyCounts(m map[uint64]int) map[uint64]int {
	out := map[uint64]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

func dumpFrames(r *recorder) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, f := range r.order {
		fmt.Fprintf(&b, "  %+v %v\n", f.Header, f.Body)
	}
	return b.String()
}

// createdPair links a recorded Created with the daemon's, for the relation checks.
type createdPair struct {
	exp, act uint64
	what     string
}

// compareReplay compares the daemon's frames with the recording, per Seq (PROTOCOL.md §2.2).
func compareReplay(expected []expFrame, actual map[uint64][]Frame) error {
	bySeq := map[uint64][]Frame{}
	forbidden := map[uint64][]Frame{}
	for _, e := range expected {
		if e.tag == "[original-only]" {
			forbidden[e.Header.Seq] = append(forbidden[e.Header.Seq], e.Frame)
		} else {
			bySeq[e.Header.Seq] = append(bySeq[e.Header.Seq], e.Frame)
		}
	}
	for seq := range actual {
		if _, ok := bySeq[seq]; !ok {
			return fmt.Errorf("unexpected responses for Seq %d: %v", seq, framesString(actual[seq]))
		}
	}
	var pairs []createdPair
	var seqs []uint64
	for seq := range bySeq {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		exp, act := bySeq[seq], actual[seq]
		for _, f := range forbidden[seq] {
			for _, a := range act {
				if framesEqualLoose(f, a) {
					return fmt.Errorf("Seq %d: the daemon sent an [original-only] frame %+v %v", seq, a.Header, a.Body)
				}
			}
		}
		p, err := compareSeq(seq, exp, act)
		if err != nil {
			return fmt.Errorf("Seq %d: %v\nwant: %s\ngot:  %s", seq, err, framesString(exp), framesString(act))
		}
		pairs = append(pairs, p...)
	}
	return checkCreated(pairs)
}

func framesString(fs []Frame) string {
	var parts []string
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%+v %v", f.Header, f.Body))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func framesEqualLoose(a, b Frame) bool {
	if a.Header != b.Header {
		return false
	}
	ua, oka := a.Body.(ServiceUpdate)
	ub, okb := b.Body.(ServiceUpdate)
	if oka && okb {
		ua.Created, ub.Created = 0, 0
		return reflect.DeepEqual(ua, ub)
	}
	return reflect.DeepEqual(a.Body, b.Body)
}

const keyNotFound = "100: Key not found ("

func headersMatch(exp, act Response) bool {
	if exp.ServiceMethod != act.ServiceMethod || exp.Seq != act.Seq {
		return false
	}
	if strings.HasPrefix(exp.Error, keyNotFound) {
		return strings.HasPrefix(act.Error, keyNotFound)
	}
	return exp.Error == act.Error
}

// compareSeq compares the frames of one Seq; a stream's snapshot in any order.
func compareSeq(seq uint64, exp, act []Frame) ([]createdPair, error) {
	if len(exp) != len(act) {
		return nil, fmt.Errorf("%d frames, want %d", len(act), len(exp))
	}
	var pairs []createdPair
	// the snapshot: the items before the first sentinel, matched as a multiset
	snap := 0
	if exp[0].Header.ServiceMethod == "Agent.Subscribe" {
		for snap < len(exp) {
			u, ok := exp[snap].Body.(ServiceUpdate)
			if !ok || u.isSentinel() {
				break
			}
			snap++
		}
		used := make([]bool, snap)
		for i := 0; i < snap; i++ {
			found := false
			for j := 0; j < snap; j++ {
				if !used[j] && headersMatch(exp[j].Header, act[i].Header) && framesEqualLoose(Frame{Header: act[i].Header, Body: exp[j].Body}, act[i]) {
					used[j] = true
					found = true
					pairs = append(pairs, createdPair{exp[j].Body.(ServiceUpdate).Created, act[i].Body.(ServiceUpdate).Created, fmt.Sprintf("Seq %d snapshot %v", seq, act[i].Body)})
					break
				}
			}
			if !found {
				return nil, fmt.Errorf("snapshot item %d %+v %v is not in the recorded snapshot", i, act[i].Header, act[i].Body)
			}
		}
	}
	for i := snap; i < len(exp); i++ {
		e, a := exp[i], act[i]
		if !headersMatch(e.Header, a.Header) {
			return nil, fmt.Errorf("frame %d header %+v, want %+v", i, a.Header, e.Header)
		}
		ue, oke := e.Body.(ServiceUpdate)
		ua, oka := a.Body.(ServiceUpdate)
		if oke && oka {
			pairs = append(pairs, createdPair{ue.Created, ua.Created, fmt.Sprintf("Seq %d frame %d %v", seq, i, ua)})
			ue.Created, ua.Created = 0, 0
			if !reflect.DeepEqual(ue, ua) {
				return nil, fmt.Errorf("frame %d body %v, want %v (Created aside)", i, a.Body, e.Body)
			}
			continue
		}
		if !reflect.DeepEqual(e.Body, a.Body) {
			return nil, fmt.Errorf("frame %d body %#v, want %#v", i, a.Body, e.Body)
		}
	}
	return pairs, nil
}

// checkCreated checks Created by relation: zero exactly where the recording has zero, and the
// same order (and equalities) between any two values as in the recording (PROTOCOL.md §6.1).
func checkCreated(pairs []createdPair) error {
	for i, p := range pairs {
		if (p.exp == 0) != (p.act == 0) {
			return fmt.Errorf("Created %d in %s, recorded %d", p.act, p.what, p.exp)
		}
		for _, q := range pairs[i+1:] {
			if p.exp == 0 || q.exp == 0 {
				continue
			}
			if cmp(p.exp, q.exp) != cmp(p.act, q.act) {
				return fmt.Errorf("Created order: %s has %d and %s has %d; the recording had %d and %d", p.what, p.act, q.what, q.act, p.exp, q.exp)
			}
		}
	}
	return nil
}

func cmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cleanName unregisters every live instance of name, so a replay starts from an empty service.
func cleanName(addr, name string) error {
	c, err := Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := c.Subscribe(name)
	if err != nil {
		return err
	}
	items, err := s.Snapshot(5 * time.Second)
	if err != nil {
		return err
	}
	for _, u := range items {
		if err := c.Unregister(name, u.Addr); err != nil {
			return fmt.Errorf("unregister %v: %v", u, err)
		}
	}
	return nil
}
