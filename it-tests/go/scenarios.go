package main

// Scenario subcommands: the PROTOCOL.md §8 checklist items in gob that one daemon (or two on one
// store) can show. Every value crosses the wire through encoding/gob; names are unique per run
// so that scenarios can share a daemon.

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Env is what a scenario gets from the command line.
type Env struct {
	Addr   string
	Addr2  string
	TTL    time.Duration
	Prefix string
}

// Name returns a service name unique to this run.
func (e *Env) Name(s string) string { return e.Prefix + "-" + s }

// Scenario is one subcommand.
type Scenario struct {
	Name  string
	Items string
	Run   func(e *Env) error
}

const quiet = 500 * time.Millisecond
const wait = 5 * time.Second

// Scenarios lists every scenario subcommand.
var Scenarios = []Scenario{
	{"method-errors", "[#12 #13]", methodErrors},
	{"args-before-map", "[#15]", argsBeforeMap},
	{"unused-definitions", "[#16]", unusedDefinitions},
	{"fatal-header", "[#17]", fatalHeader},
	{"body-decode-errors", "[#18 #19]", bodyDecodeErrors},
	{"seq-values", "[#20]", seqValues},
	{"pipelined-registers", "[#21]", pipelinedRegisters},
	{"concurrent-first-calls", "[#22]", concurrentFirstCalls},
	{"unknown-body-type", "[#23]", unknownBodyType},
	{"register-forms", "[#24]", registerForms},
	{"unregister", "[#26 #27 #28]", unregisterCases},
	{"subscribe-empty", "[#30]", subscribeEmpty},
	{"subscribe-heartbeat-no-item", "[#31]", subscribeHeartbeat},
	{"subscribe-attr-change", "[#32 #33]", subscribeAttrChange},
	{"subscribe-offline-item", "[#34]", subscribeOffline},
	{"register-unregister-at-once", "[#35]", registerUnregisterAtOnce},
	{"ttl-expiry", "[#36]", ttlExpiry},
	{"heartbeat-keeps-alive", "[#37]", heartbeatKeepsAlive},
	{"closestream", "[#38 #39]", closeStream},
	{"client-vanishes", "[#40]", clientVanishes},
	{"fanout", "[#41]", fanout},
	{"subscribe-during-registers", "[#42]", subscribeDuringRegisters},
	{"slash-names", "[#43]", slashNames},
	{"created-order", "[#45]", createdOrder},
	{"read-your-writes", "[#49]", readYourWrites},
	{"leader", "[§5.11]", leader},
	{"garbage", "[#55]", garbage},
	{"two-daemons", "[#46 #49]", twoDaemons},
	{"two-daemons-heartbeat", "[#47]", twoDaemonsHeartbeat},
}

func expectError(f Frame, want string) error {
	if f.Header.Error != want {
		return fmt.Errorf("%s Seq %d: Error %q, want %q", f.Header.ServiceMethod, f.Header.Seq, f.Header.Error, want)
	}
	if _, ok := f.Body.(Empty); !ok {
		return fmt.Errorf("%s: error body %#v, want the empty struct", f.Header.ServiceMethod, f.Body)
	}
	return nil
}

func expectAddr(c *Client, name, addr string, attrs map[string]string, want string) error {
	got, err := c.Register(name, addr, attrs)
	if err != nil {
		return fmt.Errorf("Register {%s, %q}: %v", name, addr, err)
	}
	if got != want {
		return fmt.Errorf("Register {%s, %q} = %q, want %q", name, addr, got, want)
	}
	return nil
}

func dial(e *Env) (*Client, error) { return Dial(e.Addr) }

// --- #12, #13 -------------------------------------------------------------------------------

func methodErrors(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	table := []struct{ sm, want string }{
		{"Agent.Nope", "rpc: can't find method Agent.Nope"},
		{"Nope.Register", "rpc: can't find service Nope.Register"},
		{"agent.Register", "rpc: can't find service agent.Register"},
		{"Agent.register", "rpc: can't find method Agent.register"},
		{"Bad", "rpc: service/method request ill-formed: Bad"},
		{"Agent.Register.X", "rpc: service/method request ill-formed: Agent.Register.X"},
		{"", "rpc: service/method request ill-formed: "},
		{"Agent.", "rpc: can't find method Agent."},
		{".Register", "rpc: can't find service .Register"},
		{"Agent.Heartbeat", "rpc: can't find method Agent.Heartbeat"},
	}
	for _, tc := range table {
		f, err := c.Call(tc.sm, &Args{Name: e.Name("m"), Addr: ":1"})
		if err != nil {
			return fmt.Errorf("%q: %v", tc.sm, err)
		}
		if err := expectError(f, tc.want); err != nil {
			return err
		}
	}
	// the connection is still usable for a normal call
	return expectAddr(c, e.Name("m"), ":8080", nil, "127.0.0.1:8080")
}

// --- #15, #16 -------------------------------------------------------------------------------

// teeConn copies what the client writes.
type teeConn struct {
	net.Conn
	tap *lockedBuffer
}

func (t teeConn) Write(p []byte) (int, error) {
	t.tap.Write(p)
	return t.Conn.Write(p)
}

func argsBeforeMap(e *Env) error {
	raw, err := DialRaw(e.Addr)
	if err != nil {
		return err
	}
	tap := &lockedBuffer{}
	c := NewClient(teeConn{raw, tap})
	defer c.Close()
	if err := expectAddr(c, e.Name("abm"), ":8080", map[string]string{"a": "b"}, "127.0.0.1:8080"); err != nil {
		return err
	}
	msgs, _ := splitMessages(tap.Bytes())
	argsAt, mapAt := -1, -1
	for i, m := range msgs {
		if id, _ := messageId(m); id < 0 {
			d, err := parseDefinition(m)
			if err != nil {
				return err
			}
			if d.Name == "Args" {
				argsAt = i
			}
			if d.Kind == 3 {
				mapAt = i
			}
		}
	}
	if argsAt < 0 || mapAt < 0 || argsAt > mapAt {
		return fmt.Errorf("the client did not define Args (message %d) before its map (message %d)", argsAt, mapAt)
	}
	return nil
}

type unusedA struct {
	X int
	Y []float64
	Z map[int]bool
}

type unusedInner struct{ P complex128 }

type unusedB struct {
	Q [3]uint16
	R *unusedInner
	S [][]byte
}

// definitionsOnly returns the definition messages gob writes for a value, without the value.
func definitionsOnly(v interface{}) []byte {
	msgs, _ := splitMessages(encodeAll(v))
	var out []byte
	for _, m := range msgs {
		if id, _ := messageId(m); id < 0 {
			out = append(out, m...)
		}
	}
	return out
}

func unusedDefinitions(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.WriteRaw(definitionsOnly(&unusedA{X: 1, Y: []float64{1}, Z: map[int]bool{1: true}})); err != nil {
		return err
	}
	if err := expectAddr(c, e.Name("unused"), ":8080", nil, "127.0.0.1:8080"); err != nil {
		return fmt.Errorf("after unused definitions before the first header: %v", err)
	}
	if err := c.WriteRaw(definitionsOnly(&unusedB{Q: [3]uint16{1}, R: &unusedInner{P: 1i}, S: [][]byte{{1}}})); err != nil {
		return err
	}
	if err := expectAddr(c, e.Name("unused"), ":8081", nil, "127.0.0.1:8081"); err != nil {
		return fmt.Errorf("after unused definitions before a later header: %v", err)
	}
	return nil
}

// --- #17 ------------------------------------------------------------------------------------

// RequestIntSeq is a request header declaring Seq as a signed integer.
type RequestIntSeq struct {
	ServiceMethod string
	Seq           int64
}

// expectClosedSilently reads until the daemon closes the connection; any byte is a failure.
func expectClosedSilently(r io.Reader, conn net.Conn, what string) error {
	conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 256)
	n, err := r.Read(buf)
	if n > 0 {
		return fmt.Errorf("%s: the daemon answered %x, want the connection closed without a response", what, buf[:n])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("%s: connection still open after %v, want it closed", what, wait)
	}
	if err == nil {
		return fmt.Errorf("%s: empty read", what)
	}
	return nil // io.EOF or a reset: closed
}

func fatalHeader(e *Env) error {
	name := e.Name("fatal")
	args := &Args{Name: name, Addr: ":8080"}
	cases := []struct {
		what  string
		bytes []byte
	}{
		{"a Request definition declaring Seq as int", encodeAll(&RequestIntSeq{ServiceMethod: "Agent.Register", Seq: 1}, args)},
		{"a header that is a string", encodeAll("Agent.Register", args)},
	}
	for _, tc := range cases {
		conn, err := DialRaw(e.Addr)
		if err != nil {
			return err
		}
		if _, err := conn.Write(tc.bytes); err != nil {
			conn.Close()
			return err
		}
		err = expectClosedSilently(conn, conn, tc.what)
		conn.Close()
		if err != nil {
			return err
		}
		if err := secondConnectionWorks(e, name); err != nil {
			return fmt.Errorf("after %s: %v", tc.what, err)
		}
	}

	// a second definition of an id already defined, after a successful call
	conn, err := DialRaw(e.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	var buf lockedBuffer
	enc := gob.NewEncoder(&buf)
	if err := enc.Encode(&Request{ServiceMethod: "Agent.Register", Seq: 0}); err != nil {
		return err
	}
	if err := enc.Encode(args); err != nil {
		return err
	}
	first := buf.Bytes()
	if _, err := conn.Write(first); err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	dec := gob.NewDecoder(br)
	var h Response
	var reply string
	conn.SetReadDeadline(time.Now().Add(wait))
	if err := dec.Decode(&h); err != nil {
		return fmt.Errorf("first call: %v", err)
	}
	if err := dec.Decode(&reply); err != nil || h.Error != "" || reply != "127.0.0.1:8080" {
		return fmt.Errorf("first call: %+v %q %v", h, reply, err)
	}
	msgs, _ := splitMessages(first)
	buf.mu.Lock()
	buf.buf.Reset()
	buf.mu.Unlock()
	if err := enc.Encode(&Request{ServiceMethod: "Agent.Register", Seq: 1}); err != nil {
		return err
	}
	if err := enc.Encode(args); err != nil {
		return err
	}
	again := append(append([]byte{}, msgs[0]...), buf.Bytes()...) // the Request definition once more
	if id, _ := messageId(msgs[0]); id >= 0 {
		return fmt.Errorf("internal: first message is not a definition")
	}
	if _, err := conn.Write(again); err != nil {
		return err
	}
	if err := expectClosedSilently(br, conn, "a second definition of an id already defined"); err != nil {
		return err
	}
	return secondConnectionWorks(e, name)
}

func secondConnectionWorks(e *Env, name string) error {
	c, err := dial(e)
	if err != nil {
		return fmt.Errorf("a new connection: %v", err)
	}
	defer c.Close()
	return expectAddr(c, name, ":9", nil, "127.0.0.1:9")
}

// --- #18, #19 -------------------------------------------------------------------------------

// ArgsIntAttrs is Args with Attrs of the wrong kind.
type ArgsIntAttrs struct {
	Name  string
	Addr  string
	Attrs map[string]int
}

// ArgsNoMatch shares no field name with Args.
type ArgsNoMatch struct {
	Foo string
	Bar int
}

// ArgsPort is Args with an extra field.
type ArgsPort struct {
	Name  string
	Addr  string
	Attrs map[string]string
	Port  int
}

func bodyDecodeErrors(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	name := e.Name("bodyerr")
	bad := []interface{}{
		&ArgsIntAttrs{Name: name, Addr: ":1", Attrs: map[string]int{"a": 1}},
		&ArgsNoMatch{Foo: "x", Bar: 2},
	}
	for _, b := range bad {
		f, err := c.Call("Agent.Register", b)
		if err != nil {
			return fmt.Errorf("%T: %v", b, err)
		}
		if f.Header.Error == "" {
			return fmt.Errorf("%T body accepted (reply %v), want a non-empty error", b, f.Body)
		}
		if _, ok := f.Body.(Empty); !ok {
			return fmt.Errorf("%T: error body %#v", b, f.Body)
		}
		if err := expectAddr(c, name, ":7", nil, "127.0.0.1:7"); err != nil {
			return fmt.Errorf("after a %T body: %v", b, err)
		}
	}
	f, err := c.Call("Agent.Register", &ArgsPort{Name: name, Addr: ":8080", Attrs: map[string]string{"k": "v"}, Port: 99})
	if err != nil {
		return err
	}
	if f.Header.Error != "" || f.Body != "127.0.0.1:8080" {
		return fmt.Errorf("Args with an extra field: %+v %v", f.Header, f.Body)
	}
	s, err := c.Subscribe(name)
	if err != nil {
		return err
	}
	snap, err := s.Snapshot(wait)
	if err != nil {
		return err
	}
	for _, u := range snap {
		if u.Addr == "127.0.0.1:8080" && reflect.DeepEqual(u.Attrs, map[string]string{"k": "v"}) {
			return nil
		}
	}
	return fmt.Errorf("the instance registered with an extra field is not in the snapshot %v", snap)
}

// --- #20, #21, #22, #23 ---------------------------------------------------------------------

func seqValues(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, seq := range []uint64{0, 127, 128, 1 << 32, math.MaxUint64} {
		p, err := c.GoSeq("Agent.Register", seq, &Args{Name: e.Name("seq"), Addr: ":1"})
		if err != nil {
			return err
		}
		f, err := c.Wait(p, wait)
		if err != nil {
			return err
		}
		if f.Header.Seq != seq || f.Header.Error != "" || f.Body != "127.0.0.1:1" {
			return fmt.Errorf("Seq %d: got %+v %v", seq, f.Header, f.Body)
		}
	}
	return nil
}

func pipelinedRegisters(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	name := e.Name("pipe")
	var ps []*Pending
	for i := 0; i < 50; i++ {
		p, err := c.Go("Agent.Register", &Args{Name: name, Addr: fmt.Sprintf(":%d", 1000+i)})
		if err != nil {
			return err
		}
		ps = append(ps, p)
	}
	// the reader fails the connection on a Seq it does not expect, so a duplicate shows here
	for i, p := range ps {
		f, err := c.Wait(p, wait)
		if err != nil {
			return err
		}
		if want := fmt.Sprintf("127.0.0.1:%d", 1000+i); f.Header.Error != "" || f.Body != want {
			return fmt.Errorf("Seq %d: %+v %v, want %q", p.Seq, f.Header, f.Body, want)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if err := c.Err(); err != nil {
		return err
	}
	return nil
}

func concurrentFirstCalls(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	name := e.Name("first")
	type result struct {
		i   int
		err error
	}
	results := make(chan result, 100)
	var start sync.WaitGroup
	start.Add(1)
	for i := 0; i < 100; i++ {
		go func(i int) {
			start.Wait()
			var err error
			switch i % 5 {
			case 0:
				_, err = c.Register(name, fmt.Sprintf(":%d", 2000+i), map[string]string{"i": fmt.Sprint(i)})
			case 1:
				var f Frame
				f, err = c.Call("Agent.Unregister", &Args{Name: name, Addr: "10.9.9.9:1"})
				if err == nil && !strings.HasPrefix(f.Header.Error, keyNotFound) {
					err = fmt.Errorf("Unregister unknown: %+v", f.Header)
				}
			case 2:
				var s *Stream
				s, err = c.Subscribe(name)
				if err == nil {
					_, err = s.Snapshot(wait)
				}
			case 3:
				var f Frame
				f, err = c.Call("Agent.Nope", &Args{Name: name})
				if err == nil {
					err = expectError(f, "rpc: can't find method Agent.Nope")
				}
			case 4:
				var f Frame
				f, err = c.Call("Agent.Leader", &Args{Name: name})
				if err == nil && f.Header.Error == "" {
					if _, ok := f.Body.(ServiceUpdate); !ok {
						err = fmt.Errorf("Leader body %#v", f.Body)
					}
				}
			}
			results <- result{i, err}
		}(i)
	}
	start.Done()
	for n := 0; n < 100; n++ {
		select {
		case r := <-results:
			if r.err != nil {
				return fmt.Errorf("call %d: %v", r.i, r.err)
			}
		case <-time.After(2 * wait):
			return fmt.Errorf("only %d of 100 calls finished", n)
		}
	}
	// gob.Decoder refuses a type defined twice and a value of an undefined type
	return c.Err()
}

type strangeInner struct {
	X bool
	Y complex128
}

// Strange is a body type no server knows.
type Strange struct {
	A []int64
	B map[string][]byte
	C float64
	D strangeInner
	E [2]string
}

func unknownBodyType(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	bodies := []interface{}{
		&Strange{A: []int64{-1, 2}, B: map[string][]byte{"k": {1, 2}}, C: 1.5, D: strangeInner{true, 2i}, E: [2]string{"a", "b"}},
		[]string{"top", "level", "slice"},
		map[int]float32{1: 2},
	}
	for _, b := range bodies {
		f, err := c.Call("Agent.Nope", b)
		if err != nil {
			return fmt.Errorf("%T body: %v", b, err)
		}
		if err := expectError(f, "rpc: can't find method Agent.Nope"); err != nil {
			return err
		}
		f, err = c.Call("Bad", b)
		if err != nil {
			return fmt.Errorf("%T body: %v", b, err)
		}
		if err := expectError(f, "rpc: service/method request ill-formed: Bad"); err != nil {
			return err
		}
		if err := expectAddr(c, e.Name("strange"), ":8080", nil, "127.0.0.1:8080"); err != nil {
			return fmt.Errorf("after a %T body: %v", b, err)
		}
	}
	return nil
}

// --- #24, #26, #27, #28 ---------------------------------------------------------------------

func registerForms(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	name := e.Name("forms")
	if err := expectAddr(c, name, ":8080", map[string]string{"foo": "bar"}, "127.0.0.1:8080"); err != nil {
		return err
	}
	if err := expectAddr(c, name, "10.0.0.2:8080", nil, "10.0.0.2:8080"); err != nil {
		return err
	}
	return expectAddr(c, name, "127.0.0.1", nil, "127.0.0.1")
}

func unregisterCases(e *Env) error {
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	name := e.Name("unreg")
	f, err := c.Call("Agent.Unregister", &Args{Name: name, Addr: ""})
	if err != nil {
		return err
	}
	if err := expectError(f, "discoverd: Addr must be set"); err != nil {
		return fmt.Errorf("#26: %v", err)
	}
	f, err = c.Call("Agent.Unregister", &Args{Name: name, Addr: "10.9.9.9:1"})
	if err != nil {
		return err
	}
	if !strings.HasPrefix(f.Header.Error, keyNotFound) {
		return fmt.Errorf("#27: Unregister of an unknown address: Error %q, want the prefix %q", f.Header.Error, keyNotFound)
	}
	if err := expectAddr(c, name, ":8080", nil, "127.0.0.1:8080"); err != nil {
		return err
	}
	f, err = c.Call("Agent.Unregister", &Args{Name: name, Addr: ":8080"})
	if err != nil {
		return err
	}
	if f.Header.Error != "" || f.Body != (Empty{}) {
		return fmt.Errorf("#28: Unregister of a registered instance: %+v %#v", f.Header, f.Body)
	}
	f, err = c.Call("Agent.Unregister", &Args{Name: name, Addr: ":8080"})
	if err != nil {
		return err
	}
	if !strings.HasPrefix(f.Header.Error, keyNotFound) {
		return fmt.Errorf("#27: second Unregister: Error %q, want the prefix %q", f.Header.Error, keyNotFound)
	}
	return nil
}

// --- #30 to #35 ------------------------------------------------------------------------------

// subscribed opens a connection and a stream and reads its snapshot.
func subscribed(addr, name string) (*Client, *Stream, []ServiceUpdate, error) {
	c, err := Dial(addr)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := c.Subscribe(name)
	if err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	snap, err := s.Snapshot(wait)
	if err != nil {
		c.Close()
		return nil, nil, nil, err
	}
	return c, s, snap, nil
}

func expectOnline(u ServiceUpdate, name, addr string, attrs map[string]string) error {
	if u.Name != name || u.Addr != addr || !u.Online || !reflect.DeepEqual(u.Attrs, attrs) || u.Created == 0 {
		return fmt.Errorf("item %v, want online {%s %s %s} with Created > 0", u, name, addr, attrsString(attrs))
	}
	return nil
}

func expectOffline(u ServiceUpdate, name, addr string) error {
	if !reflect.DeepEqual(u, ServiceUpdate{Name: name, Addr: addr}) {
		return fmt.Errorf("item %v, want offline {Name %q, Addr %q} and nothing else", u, name, addr)
	}
	return nil
}

func subscribeEmpty(e *Env) error {
	name := e.Name("empty")
	c, s, snap, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	defer c.Close()
	if len(snap) != 0 {
		return fmt.Errorf("snapshot of an unused name: %v", snap)
	}
	if err := s.ExpectQuiet(quiet); err != nil {
		return err
	}
	if err := expectAddr(c, name, ":8080", nil, "127.0.0.1:8080"); err != nil {
		return err
	}
	u, err := s.NextUpdate(wait)
	if err != nil {
		return err
	}
	return expectOnline(u, name, "127.0.0.1:8080", nil)
}

func subscribeHeartbeat(e *Env) error {
	name := e.Name("hb")
	c, s, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	defer c.Close()
	attrs := map[string]string{"foo": "bar"}
	if err := expectAddr(c, name, ":8080", attrs, "127.0.0.1:8080"); err != nil {
		return err
	}
	u, err := s.NextUpdate(wait)
	if err != nil {
		return err
	}
	if err := expectOnline(u, name, "127.0.0.1:8080", attrs); err != nil {
		return err
	}
	other, err := dial(e)
	if err != nil {
		return err
	}
	defer other.Close()
	for i := 0; i < 3; i++ {
		if err := expectAddr(other, name, ":8080", map[string]string{"foo": "bar"}, "127.0.0.1:8080"); err != nil {
			return err
		}
	}
	if err := s.ExpectQuiet(quiet); err != nil {
		return fmt.Errorf("heartbeat: %v", err)
	}
	return nil
}

func subscribeAttrChange(e *Env) error {
	name := e.Name("attrs")
	c, s, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := expectAddr(c, name, ":8080", map[string]string{"foo": "bar"}, "127.0.0.1:8080"); err != nil {
		return err
	}
	first, err := s.NextUpdate(wait)
	if err != nil {
		return err
	}
	steps := []map[string]string{{"foo": "baz"}, nil, {}, {"x": "1", "y": "2"}}
	for _, attrs := range steps {
		if err := expectAddr(c, name, ":8080", attrs, "127.0.0.1:8080"); err != nil {
			return err
		}
		u, err := s.NextUpdate(wait)
		if err != nil {
			return fmt.Errorf("attrs -> %s: %v", attrsString(attrs), err)
		}
		if err := expectOnline(u, name, "127.0.0.1:8080", attrs); err != nil {
			return fmt.Errorf("attrs -> %s: %v", attrsString(attrs), err)
		}
		if u.Created != first.Created {
			return fmt.Errorf("attrs -> %s: Created %d, was %d", attrsString(attrs), u.Created, first.Created)
		}
		if err := s.ExpectQuiet(100 * time.Millisecond); err != nil {
			return fmt.Errorf("attrs -> %s: more than one item: %v", attrsString(attrs), err)
		}
	}
	return nil
}

func subscribeOffline(e *Env) error {
	name := e.Name("offline")
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := expectAddr(c, name, "10.0.0.2:8080", map[string]string{"a": "b"}, "10.0.0.2:8080"); err != nil {
		return err
	}
	_, s, snap, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	if len(snap) != 1 {
		return fmt.Errorf("snapshot %v", snap)
	}
	if err := c.Unregister(name, "10.0.0.2:8080"); err != nil {
		return err
	}
	u, err := s.NextUpdate(wait)
	if err != nil {
		return err
	}
	if err := expectOffline(u, name, "10.0.0.2:8080"); err != nil {
		return err
	}
	return s.ExpectQuiet(quiet)
}

func registerUnregisterAtOnce(e *Env) error {
	name := e.Name("atonce")
	_, s, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	for i := 0; i < 5; i++ {
		addr := fmt.Sprintf(":%d", 3000+i)
		full := "127.0.0.1" + addr
		if err := expectAddr(c, name, addr, nil, full); err != nil {
			return err
		}
		if err := c.Unregister(name, addr); err != nil {
			return err
		}
		u, err := s.NextUpdate(wait)
		if err != nil {
			return err
		}
		if err := expectOnline(u, name, full, nil); err != nil {
			return fmt.Errorf("round %d: %v", i, err)
		}
		u, err = s.NextUpdate(wait)
		if err != nil {
			return err
		}
		if err := expectOffline(u, name, full); err != nil {
			return fmt.Errorf("round %d: %v", i, err)
		}
	}
	return s.ExpectQuiet(quiet)
}

// --- #36, #37, #40 (need -ttl: the daemon's registrationTtl) ---------------------------------

func needTTL(e *Env) error {
	if e.TTL <= 0 {
		return fmt.Errorf("this scenario needs -ttl (the daemon's registrationTtl)")
	}
	return nil
}

func ttlExpiry(e *Env) error {
	if err := needTTL(e); err != nil {
		return err
	}
	name := e.Name("ttl")
	c, s, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	defer c.Close()
	sent := time.Now()
	if err := expectAddr(c, name, ":8080", nil, "127.0.0.1:8080"); err != nil {
		return err
	}
	replied := time.Now()
	on, err := s.NextUpdate(wait)
	if err != nil {
		return err
	}
	f, err := s.Next(e.TTL + 3*time.Second)
	if err != nil {
		return fmt.Errorf("no offline item within TTL+3s: %v", err)
	}
	off, ok := f.Body.(ServiceUpdate)
	if !ok || f.Header.Error != "" {
		return fmt.Errorf("unexpected frame %+v %v", f.Header, f.Body)
	}
	if err := expectOffline(off, name, "127.0.0.1:8080"); err != nil {
		return err
	}
	if early := f.At.Sub(sent); early < e.TTL {
		return fmt.Errorf("offline %v after the Register was sent, before the TTL %v", early, e.TTL)
	}
	if late := f.At.Sub(replied); late > e.TTL+time.Second {
		return fmt.Errorf("offline %v after the Register reply, later than TTL+1s", late)
	}
	if err := expectAddr(c, name, ":8080", nil, "127.0.0.1:8080"); err != nil {
		return err
	}
	again, err := s.NextUpdate(wait)
	if err != nil {
		return err
	}
	if err := expectOnline(again, name, "127.0.0.1:8080", nil); err != nil {
		return err
	}
	if again.Created <= on.Created {
		return fmt.Errorf("registered again after expiry: Created %d, not larger than %d", again.Created, on.Created)
	}
	fmt.Printf("INFO ttl-expiry: offline %v after the Register was sent, %v after its reply (TTL %v)\n",
		f.At.Sub(sent).Round(time.Millisecond), f.At.Sub(replied).Round(time.Millisecond), e.TTL)
	return nil
}

func heartbeatKeepsAlive(e *Env) error {
	if err := needTTL(e); err != nil {
		return err
	}
	name := e.Name("keepalive")
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	attrs := map[string]string{"role": "x"}
	if err := expectAddr(c, name, ":8080", attrs, "127.0.0.1:8080"); err != nil {
		return err
	}
	_, s, snap, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	if len(snap) != 1 {
		return fmt.Errorf("snapshot %v", snap)
	}
	created := snap[0].Created
	end := time.Now().Add(3 * e.TTL)
	for time.Now().Before(end) {
		if err := s.ExpectQuiet(e.TTL / 2); err != nil {
			return err
		}
		if err := expectAddr(c, name, ":8080", map[string]string{"role": "x"}, "127.0.0.1:8080"); err != nil {
			return err
		}
	}
	if err := s.ExpectQuiet(e.TTL / 2); err != nil {
		return err
	}
	_, _, snap2, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	if len(snap2) != 1 || snap2[0].Created != created {
		return fmt.Errorf("after heartbeats: snapshot %v, want the instance with Created %d", snap2, created)
	}
	return nil
}

func clientVanishes(e *Env) error {
	if err := needTTL(e); err != nil {
		return err
	}
	name := e.Name("vanish")
	watcher, ws, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	defer watcher.Close()

	// the vanishing client: two streams, one registration, then its socket is reset
	v, err := dial(e)
	if err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		s, err := v.Subscribe(name)
		if err != nil {
			return err
		}
		if _, err := s.Snapshot(wait); err != nil {
			return err
		}
	}
	if err := expectAddr(v, name, ":8080", nil, "127.0.0.1:8080"); err != nil {
		return err
	}
	replied := time.Now()
	if tc, ok := v.conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST, as a crashed client
	}
	v.Close()
	u, err := ws.NextUpdate(wait)
	if err != nil {
		return err
	}
	if err := expectOnline(u, name, "127.0.0.1:8080", nil); err != nil {
		return err
	}
	// the daemon keeps serving; the registration stays
	if err := expectAddr(watcher, name, ":8081", nil, "127.0.0.1:8081"); err != nil {
		return err
	}
	if u, err = ws.NextUpdate(wait); err != nil {
		return err
	}
	if err := expectOnline(u, name, "127.0.0.1:8081", nil); err != nil {
		return err
	}
	_, _, snap, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	if len(snap) != 2 {
		return fmt.Errorf("after the client vanished: snapshot %v, want both instances", snap)
	}
	// ... until its TTL
	deadline := replied.Add(e.TTL + time.Second)
	for {
		u, err := ws.NextUpdate(time.Until(deadline) + 100*time.Millisecond)
		if err != nil {
			return fmt.Errorf("the vanished client's instance did not expire within TTL+1s: %v", err)
		}
		if u.Addr == "127.0.0.1:8080" {
			if time.Since(replied) < e.TTL-100*time.Millisecond {
				return fmt.Errorf("the vanished client's instance went offline after %v, before its TTL", time.Since(replied))
			}
			return expectOffline(u, name, "127.0.0.1:8080")
		}
		// :8081 may expire too, it gets no heartbeat either
	}
}

// --- #38, #39 --------------------------------------------------------------------------------

func closeStream(e *Env) error {
	name := e.Name("close")
	c, s, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	defer c.Close()
	other, err := c.Subscribe(name)
	if err != nil {
		return err
	}
	if _, err := other.Snapshot(wait); err != nil {
		return err
	}
	if err := expectAddr(c, name, ":1", nil, "127.0.0.1:1"); err != nil {
		return err
	}
	if _, err := s.NextUpdate(wait); err != nil {
		return err
	}
	if _, err := other.NextUpdate(wait); err != nil {
		return err
	}
	// #39: CloseStream naming nothing: no response (the reader fails on an unknown Seq)
	if err := c.CloseStream(987654); err != nil {
		return err
	}
	if err := s.ExpectQuiet(quiet); err != nil {
		return fmt.Errorf("#39: %v", err)
	}
	if err := c.Err(); err != nil {
		return fmt.Errorf("#39: %v", err)
	}
	// #38: EOS promptly, with no further event
	t0 := time.Now()
	if err := s.Close(); err != nil {
		return err
	}
	items, err := s.AwaitEOS(time.Second)
	if err != nil {
		return fmt.Errorf("#38: %v", err)
	}
	if len(items) != 0 {
		return fmt.Errorf("#38: items before EOS: %v", items)
	}
	fmt.Printf("INFO closestream: EOS %v after CloseStream\n", time.Since(t0).Round(time.Millisecond))
	// later events reach the other stream only; a frame for the closed Seq fails the reader
	if err := expectAddr(c, name, ":2", nil, "127.0.0.1:2"); err != nil {
		return err
	}
	if _, err := other.NextUpdate(wait); err != nil {
		return err
	}
	time.Sleep(quiet)
	if err := c.Err(); err != nil {
		return fmt.Errorf("after EOS: %v", err)
	}
	// CloseStream of the finished stream is ignored
	if err := s.Close(); err != nil {
		return err
	}
	if err := expectAddr(c, name, ":3", nil, "127.0.0.1:3"); err != nil {
		return err
	}
	if _, err := other.NextUpdate(wait); err != nil {
		return err
	}
	return c.Err()
}

// --- #41, #42, #43 ---------------------------------------------------------------------------

func fanout(e *Env) error {
	name, elsewhere := e.Name("fan"), e.Name("fan-other")
	c1, err := dial(e)
	if err != nil {
		return err
	}
	defer c1.Close()
	c2, err := dial(e)
	if err != nil {
		return err
	}
	defer c2.Close()
	var streams []*Stream
	for _, c := range []*Client{c1, c1, c2} {
		s, err := c.Subscribe(name)
		if err != nil {
			return err
		}
		if _, err := s.Snapshot(wait); err != nil {
			return err
		}
		streams = append(streams, s)
	}
	third, err := c2.Subscribe(elsewhere)
	if err != nil {
		return err
	}
	if _, err := third.Snapshot(wait); err != nil {
		return err
	}
	w, err := dial(e)
	if err != nil {
		return err
	}
	defer w.Close()
	ops := []func() error{
		func() error { _, err := w.Register(name, ":1", map[string]string{"a": "1"}); return err },
		func() error { _, err := w.Register(name, ":2", nil); return err },
		func() error { _, err := w.Register(name, ":1", map[string]string{"a": "2"}); return err },
		func() error { _, err := w.Register(name, ":2", nil); return err }, // heartbeat: nothing
		func() error { return w.Unregister(name, ":1") },
		func() error { _, err := w.Register(name, ":3", map[string]string{}); return err },
		func() error { return w.Unregister(name, ":2") },
	}
	for _, op := range ops {
		if err := op(); err != nil {
			return err
		}
	}
	want := []ServiceUpdate{
		{Name: name, Addr: "127.0.0.1:1", Online: true, Attrs: map[string]string{"a": "1"}},
		{Name: name, Addr: "127.0.0.1:2", Online: true},
		{Name: name, Addr: "127.0.0.1:1", Online: true, Attrs: map[string]string{"a": "2"}},
		{Name: name, Addr: "127.0.0.1:1"},
		{Name: name, Addr: "127.0.0.1:3", Online: true, Attrs: map[string]string{}},
		{Name: name, Addr: "127.0.0.1:2"},
	}
	var seqs [][]ServiceUpdate
	for i, s := range streams {
		var got []ServiceUpdate
		for range want {
			u, err := s.NextUpdate(wait)
			if err != nil {
				return fmt.Errorf("stream %d after %v: %v", i, got, err)
			}
			got = append(got, u)
		}
		if err := s.ExpectQuiet(100 * time.Millisecond); err != nil {
			return fmt.Errorf("stream %d: %v", i, err)
		}
		for j := range want {
			g := got[j]
			g.Created = 0
			if !reflect.DeepEqual(g, want[j]) || (want[j].Online && got[j].Created == 0) {
				return fmt.Errorf("stream %d item %d: %v, want %v", i, j, got[j], want[j])
			}
		}
		if got[0].Created != got[2].Created {
			return fmt.Errorf("stream %d: attr change moved Created %d -> %d", i, got[0].Created, got[2].Created)
		}
		seqs = append(seqs, got)
	}
	for i := 1; i < len(seqs); i++ {
		if !reflect.DeepEqual(seqs[0], seqs[i]) {
			return fmt.Errorf("streams differ:\n%v\n%v", seqs[0], seqs[i])
		}
	}
	return third.ExpectQuiet(quiet)
}

func subscribeDuringRegisters(e *Env) error {
	name := e.Name("race")
	const conns, per = 10, 10
	var clients []*Client
	for i := 0; i < conns; i++ {
		c, err := dial(e)
		if err != nil {
			return err
		}
		defer c.Close()
		clients = append(clients, c)
	}
	sc, err := dial(e)
	if err != nil {
		return err
	}
	defer sc.Close()
	errs := make(chan error, conns)
	var replies int64
	third := make(chan struct{}) // closed once 30 of the 100 replies are in
	var once sync.Once
	var start sync.WaitGroup
	start.Add(1)
	for i, c := range clients {
		go func(i int, c *Client) {
			start.Wait()
			var ps []*Pending
			for j := 0; j < per; j++ {
				p, err := c.Go("Agent.Register", &Args{Name: name, Addr: fmt.Sprintf(":%d", 10000+i*per+j)})
				if err != nil {
					errs <- err
					return
				}
				ps = append(ps, p)
			}
			for _, p := range ps {
				f, err := c.Wait(p, wait)
				if err == nil && f.Header.Error != "" {
					err = errors.New(f.Header.Error)
				}
				if err != nil {
					errs <- err
					return
				}
				if atomic.AddInt64(&replies, 1) >= 30 {
					once.Do(func() { close(third) })
				}
			}
			errs <- nil
		}(i, c)
	}
	start.Done()
	select { // the Subscribe starts while the registrations are in flight
	case <-third:
	case <-time.After(2 * wait):
		return fmt.Errorf("30 Register replies did not arrive")
	}
	s, err := sc.Subscribe(name)
	if err != nil {
		return err
	}
	for i := 0; i < conns; i++ {
		if err := <-errs; err != nil {
			return err
		}
	}
	seen := map[string]int{}
	snapLen := -1
	n := 0
	deadline := time.Now().Add(2 * wait)
	for len(seen) < conns*per || snapLen < 0 {
		u, err := s.NextUpdate(time.Until(deadline))
		if err != nil {
			return fmt.Errorf("after %d distinct instances: %v", len(seen), err)
		}
		if u.isSentinel() {
			if snapLen >= 0 {
				return fmt.Errorf("a second sentinel")
			}
			snapLen = n
			continue
		}
		if !u.Online || u.Name != name {
			return fmt.Errorf("unexpected item %v", u)
		}
		seen[u.Addr]++
		n++
	}
	if err := s.ExpectQuiet(quiet); err != nil {
		return err
	}
	for a, k := range seen {
		if k != 1 {
			return fmt.Errorf("%s delivered %d times", a, k)
		}
	}
	if snapLen < 0 {
		return fmt.Errorf("no sentinel")
	}
	fmt.Printf("INFO subscribe-during-registers: %d in the snapshot, %d live\n", snapLen, n-snapLen)
	return nil
}

func slashNames(e *Env) error {
	base := e.Name("a")
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	f, err := c.Call("Agent.Register", &Args{Name: base + "/b", Addr: "1.2.3.4:5"})
	if err != nil {
		return err
	}
	refused := f.Header.Error != ""
	if refused && f.Header.Error != "discoverd: invalid Name" {
		return fmt.Errorf("Register %q: Error %q, want success or %q", base+"/b", f.Header.Error, "discoverd: invalid Name")
	}
	if !refused && f.Body != "1.2.3.4:5" {
		return fmt.Errorf("Register %q: reply %v", base+"/b", f.Body)
	}
	_, s, snap, err := subscribed(e.Addr, base+"/b")
	if err != nil {
		return err
	}
	if refused {
		if len(snap) != 0 {
			return fmt.Errorf("refused name %q has a snapshot %v", base+"/b", snap)
		}
	} else if len(snap) != 1 || snap[0].Name != base+"/b" || snap[0].Addr != "1.2.3.4:5" {
		return fmt.Errorf("subscribe %q: snapshot %v", base+"/b", snap)
	}
	for _, n := range []string{base, ""} {
		_, s2, snap2, err := subscribed(e.Addr, n)
		if err != nil {
			return err
		}
		if len(snap2) != 0 {
			return fmt.Errorf("subscribe %q: snapshot %v, want the sentinel only", n, snap2)
		}
		if err := s2.ExpectQuiet(quiet); err != nil {
			return fmt.Errorf("subscribe %q: %v", n, err)
		}
	}
	if !refused {
		if err := c.Unregister(base+"/b", "1.2.3.4:5"); err != nil {
			return err
		}
		u, err := s.NextUpdate(wait)
		if err != nil {
			return err
		}
		return expectOffline(u, base+"/b", "1.2.3.4:5")
	}
	fmt.Printf("INFO slash-names: the daemon refuses %q with %q\n", base+"/b", f.Header.Error)
	return nil
}

// --- #45, #49, §5.11 -------------------------------------------------------------------------

func snapshotCreated(addr, name string) (map[string]uint64, error) {
	c, _, snap, err := subscribed(addr, name)
	if err != nil {
		return nil, err
	}
	c.Close()
	out := map[string]uint64{}
	for _, u := range snap {
		out[u.Addr] = u.Created
	}
	return out, nil
}

func createdOrder(e *Env) error {
	name, other := e.Name("age"), e.Name("age-other")
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	ports := []string{":1111", ":2222", ":3333", ":4444"}
	var prev []uint64
	for i, p := range ports {
		if err := expectAddr(c, name, p, nil, "127.0.0.1"+p); err != nil {
			return err
		}
		// heartbeats and an attribute change of the older instances in between
		for j := 0; j < i; j++ {
			if _, err := c.Register(name, ports[j], map[string]string{"round": fmt.Sprint(i)}); err != nil {
				return err
			}
		}
		got, err := snapshotCreated(e.Addr, name)
		if err != nil {
			return err
		}
		var cur []uint64
		for j := 0; j <= i; j++ {
			v := got["127.0.0.1"+ports[j]]
			if v == 0 || (j > 0 && v <= cur[j-1]) {
				return fmt.Errorf("after registering %s: Created %v not strictly increasing in registration order", p, got)
			}
			if j < len(prev) && v != prev[j] {
				return fmt.Errorf("Created of %s changed from %d to %d", ports[j], prev[j], v)
			}
			cur = append(cur, v)
		}
		prev = cur
	}
	if err := expectAddr(c, other, ":1111", nil, "127.0.0.1:1111"); err != nil {
		return err
	}
	o, err := snapshotCreated(e.Addr, other)
	if err != nil {
		return err
	}
	oc := o["127.0.0.1:1111"]
	if oc <= prev[len(prev)-1] {
		return fmt.Errorf("Created %d of another name registered later is not above %v", oc, prev)
	}
	return nil
}

func readYourWrites(e *Env) error {
	name := e.Name("ryw")
	w, err := dial(e)
	if err != nil {
		return err
	}
	defer w.Close()
	r, err := dial(e)
	if err != nil {
		return err
	}
	defer r.Close()
	return readYourWritesBetween(w, r, name, 10)
}

// readYourWritesBetween registers and unregisters through w and checks r's new snapshots.
func readYourWritesBetween(w, r *Client, name string, rounds int) error {
	for i := 0; i < rounds; i++ {
		addr := fmt.Sprintf(":%d", 4000+i)
		if _, err := w.Register(name, addr, map[string]string{"i": fmt.Sprint(i)}); err != nil {
			return err
		}
		s, err := r.Subscribe(name)
		if err != nil {
			return err
		}
		snap, err := s.Snapshot(wait)
		if err != nil {
			return err
		}
		s.Close()
		if !containsAddr(snap, "127.0.0.1"+addr) {
			return fmt.Errorf("round %d: a Subscribe after the Register reply misses it: %v", i, snap)
		}
		if err := w.Unregister(name, addr); err != nil {
			return err
		}
		s, err = r.Subscribe(name)
		if err != nil {
			return err
		}
		snap, err = s.Snapshot(wait)
		if err != nil {
			return err
		}
		s.Close()
		if containsAddr(snap, "127.0.0.1"+addr) {
			return fmt.Errorf("round %d: a Subscribe after the Unregister reply still has it: %v", i, snap)
		}
	}
	return nil
}

func containsAddr(us []ServiceUpdate, addr string) bool {
	for _, u := range us {
		if u.Addr == addr {
			return true
		}
	}
	return false
}

func leader(e *Env) error {
	name := e.Name("leader")
	c, err := dial(e)
	if err != nil {
		return err
	}
	defer c.Close()
	noLeader := func() error {
		f, err := c.Call("Agent.Leader", &Args{Name: name})
		if err != nil {
			return err
		}
		return expectError(f, "discoverd: no leader for "+name)
	}
	if err := noLeader(); err != nil {
		return err
	}
	if err := expectAddr(c, name, ":1111", map[string]string{"k": "v"}, "127.0.0.1:1111"); err != nil {
		return err
	}
	if err := expectAddr(c, name, ":2222", nil, "127.0.0.1:2222"); err != nil {
		return err
	}
	created, err := snapshotCreated(e.Addr, name)
	if err != nil {
		return err
	}
	l, err := c.Leader(name)
	if err != nil {
		return err
	}
	want := ServiceUpdate{Name: name, Addr: "127.0.0.1:1111", Online: true, Attrs: map[string]string{"k": "v"}, Created: created["127.0.0.1:1111"]}
	if !reflect.DeepEqual(l, want) {
		return fmt.Errorf("Leader %v, want %v", l, want)
	}
	if err := c.Unregister(name, ":1111"); err != nil {
		return err
	}
	l, err = c.Leader(name)
	if err != nil {
		return err
	}
	want = ServiceUpdate{Name: name, Addr: "127.0.0.1:2222", Online: true, Created: created["127.0.0.1:2222"]}
	if !reflect.DeepEqual(l, want) {
		return fmt.Errorf("Leader after unregistering the first: %v, want %v", l, want)
	}
	if err := c.Unregister(name, ":2222"); err != nil {
		return err
	}
	return noLeader()
}

// --- #55 -------------------------------------------------------------------------------------

func garbage(e *Env) error {
	name := e.Name("garbage")
	witness, ws, _, err := subscribed(e.Addr, name+"-witness")
	if err != nil {
		return err
	}
	defer witness.Close()
	rng := rand.New(rand.NewSource(55))
	valid := encodeAll(&Request{ServiceMethod: "Agent.Register", Seq: 0}, &Args{Name: name, Addr: ":8080", Attrs: map[string]string{"a": "b"}},
		&Request{ServiceMethod: "Agent.Subscribe", Seq: 1}, &Args{Name: name})
	var inputs [][]byte
	for i := 0; i < 12; i++ {
		b := make([]byte, 1+rng.Intn(3000))
		rng.Read(b)
		inputs = append(inputs, b)
	}
	for i := 0; i < 24; i++ {
		b := append([]byte{}, valid...)
		switch i % 3 {
		case 0: // flip bytes
			for k := 0; k < 1+rng.Intn(4); k++ {
				b[rng.Intn(len(b))] ^= byte(1 + rng.Intn(255))
			}
		case 1: // truncate
			b = b[:rng.Intn(len(b))]
		case 2: // insert random bytes
			at := rng.Intn(len(b))
			ins := make([]byte, 1+rng.Intn(8))
			rng.Read(ins)
			b = append(b[:at], append(ins, b[at:]...)...)
		}
		inputs = append(inputs, b)
	}
	inputs = append(inputs,
		[]byte{0xf8, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},       // a length of 2^63-1
		[]byte{0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, // 2^64-1
		[]byte{0x07, 0xff, 0x82, 0x01, 0xf8, 0x7f, 0xff, 0xff},             // a string count beyond the message
		[]byte{0x03, 0x02, 0x00, 0x00},                                     // a value of the predefined int as header
		[]byte{0x03, 0xff, 0x82, 0x00},                                     // a value of an undefined type
		// type 65: struct with a field of its own type; then a value of it as the header
		append(encodeSelfRef(), 0x05, 0xff, 0x82, 0x01, 0x00, 0x00),
	)
	many := make([]byte, 0, 64*1024)
	for id := 65; len(many) < 60000; id++ { // thousands of distinct definitions
		many = append(many, defineEmptyStruct(id)...)
	}
	inputs = append(inputs, many)

	var wg sync.WaitGroup
	var mu sync.Mutex
	closed := 0
	for i, in := range inputs {
		wg.Add(1)
		go func(i int, in []byte) {
			defer wg.Done()
			conn, err := DialRaw(e.Addr)
			if err != nil {
				mu.Lock()
				closed = -1000
				mu.Unlock()
				return
			}
			defer conn.Close()
			conn.Write(in)
			conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err = io.Copy(io.Discard, conn) // whatever it answers; closed or still waiting are both fine
			if err == nil {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		}(i, in)
		if i%8 == 0 { // the witness keeps working meanwhile
			addr := fmt.Sprintf(":%d", 5000+i)
			if err := expectAddr(witness, name+"-witness", addr, nil, "127.0.0.1"+addr); err != nil {
				return fmt.Errorf("witness during garbage: %v", err)
			}
			if _, err := ws.NextUpdate(wait); err != nil {
				return fmt.Errorf("witness stream during garbage: %v", err)
			}
		}
	}
	wg.Wait()
	if closed < 0 {
		return fmt.Errorf("a connection could not be opened during the garbage run")
	}
	if err := witness.Err(); err != nil {
		return fmt.Errorf("witness connection: %v", err)
	}
	if err := expectAddr(witness, name+"-witness", ":6000", nil, "127.0.0.1:6000"); err != nil {
		return err
	}
	if _, err := ws.NextUpdate(wait); err != nil {
		return err
	}
	if err := secondConnectionWorks(e, name+"-after"); err != nil {
		return err
	}
	fmt.Printf("INFO garbage: %d inputs, %d connections closed by the daemon within 2s\n", len(inputs), closed)
	return nil
}

// encodeSelfRef is the definition of type 65 as struct "T" {F: 65}.
func encodeSelfRef() []byte {
	var p []byte
	p = appendInt(p, -65)
	p = append(p, 0x03, 0x01, 0x01) // wireType.StructT, structType.CommonType, CommonType.Name
	p = append(p, 0x01, 'T', 0x01)
	p = appendInt(p, 65)
	p = append(p, 0x00, 0x01, 0x01, 0x01, 0x01, 'F', 0x01) // end CommonType; Field: 1 element {Name "F", Id
	p = appendInt(p, 65)
	p = append(p, 0x00, 0x00, 0x00)
	return append(appendUint(nil, uint64(len(p))), p...)
}

// defineEmptyStruct is the definition of id as an unnamed struct without fields.
func defineEmptyStruct(id int) []byte {
	var p []byte
	p = appendInt(p, -int64(id))
	p = append(p, 0x03, 0x01, 0x01)
	p = appendInt(p, int64(id))
	p = append(p, 0x00, 0x00, 0x00)
	return append(appendUint(nil, uint64(len(p))), p...)
}

// --- #46, #47, #49 with two daemons ----------------------------------------------------------

func twoDaemons(e *Env) error {
	if e.Addr2 == "" {
		return fmt.Errorf("needs -addr2")
	}
	name := e.Name("two")
	a, err := Dial(e.Addr)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := Dial(e.Addr2)
	if err != nil {
		return err
	}
	defer b.Close()

	// #46: register through A, subscribe through B: the same Created
	if err := expectAddr(a, name, ":1111", map[string]string{"k": "v"}, "127.0.0.1:1111"); err != nil {
		return err
	}
	onA, err := snapshotCreated(e.Addr, name)
	if err != nil {
		return err
	}
	_, sB, snapB, err := subscribed(e.Addr2, name)
	if err != nil {
		return err
	}
	if len(snapB) != 1 || snapB[0].Created != onA["127.0.0.1:1111"] || !reflect.DeepEqual(snapB[0].Attrs, map[string]string{"k": "v"}) {
		return fmt.Errorf("#46: B's snapshot %v, A's Created %v", snapB, onA)
	}
	created1 := snapB[0].Created
	_, sA, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	sameLeader := func(wantAddr string) error {
		la, err := a.Leader(name)
		if err != nil {
			return fmt.Errorf("Leader on A: %v", err)
		}
		lb, err := b.Leader(name)
		if err != nil {
			return fmt.Errorf("Leader on B: %v", err)
		}
		if !reflect.DeepEqual(la, lb) || la.Addr != wantAddr {
			return fmt.Errorf("leaders differ or are wrong: A %v, B %v, want %s", la, lb, wantAddr)
		}
		return nil
	}
	if err := sameLeader("127.0.0.1:1111"); err != nil {
		return err
	}
	// later changes through either daemon reach subscribers on both
	both := func(what string, want ServiceUpdate) error {
		var got []ServiceUpdate
		for _, s := range []*Stream{sA, sB} {
			u, err := s.NextUpdate(wait)
			if err != nil {
				return fmt.Errorf("%s: %v", what, err)
			}
			got = append(got, u)
			c := u
			c.Created = 0
			if !reflect.DeepEqual(c, want) || (want.Online && u.Created == 0) {
				return fmt.Errorf("%s: item %v, want %v", what, u, want)
			}
		}
		if got[0].Created != got[1].Created {
			return fmt.Errorf("%s: Created %d on A, %d on B", what, got[0].Created, got[1].Created)
		}
		return nil
	}
	if err := expectAddr(a, name, ":2222", nil, "127.0.0.1:2222"); err != nil {
		return err
	}
	if err := both("register :2222 through A", ServiceUpdate{Name: name, Addr: "127.0.0.1:2222", Online: true}); err != nil {
		return err
	}
	if err := expectAddr(b, name, ":1111", map[string]string{"k": "w"}, "127.0.0.1:1111"); err != nil {
		return err
	}
	if err := both("attrs of :1111 changed through B", ServiceUpdate{Name: name, Addr: "127.0.0.1:1111", Online: true, Attrs: map[string]string{"k": "w"}}); err != nil {
		return err
	}
	if err := b.Unregister(name, ":2222"); err != nil {
		return err
	}
	if err := both("unregister :2222 through B", ServiceUpdate{Name: name, Addr: "127.0.0.1:2222"}); err != nil {
		return err
	}
	if err := expectAddr(b, name, ":3333", nil, "127.0.0.1:3333"); err != nil {
		return err
	}
	if err := both("register :3333 through B", ServiceUpdate{Name: name, Addr: "127.0.0.1:3333", Online: true}); err != nil {
		return err
	}
	if err := sameLeader("127.0.0.1:1111"); err != nil {
		return err
	}
	if err := a.Unregister(name, ":1111"); err != nil {
		return err
	}
	if err := both("unregister :1111 through A", ServiceUpdate{Name: name, Addr: "127.0.0.1:1111"}); err != nil {
		return err
	}
	if err := sameLeader("127.0.0.1:3333"); err != nil {
		return err
	}

	if err := b.Unregister(name, ":3333"); err != nil {
		return err
	}
	if err := both("unregister :3333 through B", ServiceUpdate{Name: name, Addr: "127.0.0.1:3333"}); err != nil {
		return err
	}
	if created1 == 0 {
		return fmt.Errorf("internal: no Created")
	}

	// #49 across daemons, both directions
	if err := readYourWritesBetween(a, b, name+"-ryw", 5); err != nil {
		return fmt.Errorf("#49 A->B: %v", err)
	}
	if err := readYourWritesBetween(b, a, name+"-ryw2", 5); err != nil {
		return fmt.Errorf("#49 B->A: %v", err)
	}
	return nil
}

// twoDaemonsHeartbeat registers through A and heartbeats through B for twice the TTL (#47).
func twoDaemonsHeartbeat(e *Env) error {
	if e.Addr2 == "" {
		return fmt.Errorf("needs -addr2")
	}
	if err := needTTL(e); err != nil {
		return err
	}
	name := e.Name("two-hb")
	a, err := Dial(e.Addr)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := Dial(e.Addr2)
	if err != nil {
		return err
	}
	defer b.Close()
	_, sA, _, err := subscribed(e.Addr, name)
	if err != nil {
		return err
	}
	attrs := map[string]string{"via": "A"}
	if err := expectAddr(a, name, ":4444", attrs, "127.0.0.1:4444"); err != nil {
		return err
	}
	u, err := sA.NextUpdate(wait)
	if err != nil {
		return err
	}
	if err := expectOnline(u, name, "127.0.0.1:4444", attrs); err != nil {
		return err
	}
	_, sB, snapB, err := subscribed(e.Addr2, name)
	if err != nil {
		return err
	}
	if len(snapB) != 1 || snapB[0].Created != u.Created {
		return fmt.Errorf("B's snapshot %v, want Created %d", snapB, u.Created)
	}
	for end := time.Now().Add(2 * e.TTL); time.Now().Before(end); {
		if err := expectAddr(b, name, ":4444", map[string]string{"via": "A"}, "127.0.0.1:4444"); err != nil {
			return err
		}
		if err := sA.ExpectQuiet(e.TTL / 2); err != nil {
			return fmt.Errorf("heartbeat through B, stream on A: %v", err)
		}
	}
	if err := sB.ExpectQuiet(10 * time.Millisecond); err != nil {
		return fmt.Errorf("heartbeat through B, stream on B: %v", err)
	}
	for _, addr := range []string{e.Addr, e.Addr2} {
		got, err := snapshotCreated(addr, name)
		if err != nil {
			return err
		}
		if len(got) != 1 || got["127.0.0.1:4444"] != u.Created {
			return fmt.Errorf("after %v of heartbeats through B, %s has %v, want Created %d", 2*e.TTL, addr, got, u.Created)
		}
	}
	return a.Unregister(name, ":4444")
}
