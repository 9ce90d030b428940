package main

// The rpcplus client of flynn/rpcplus (PROTOCOL.md §1–3), restated with only the standard
// library: the CONNECT upgrade, one gob.Encoder and one gob.Decoder per connection, a reader
// goroutine that dispatches responses by Seq, streams for Agent.Subscribe and CloseStream.

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Request is the request header (PROTOCOL.md §2.1).
type Request struct {
	ServiceMethod string
	Seq           uint64
}

// Response is the response header (PROTOCOL.md §2.1).
type Response struct {
	ServiceMethod string
	Seq           uint64
	Error         string
}

// Args is the body of Register, Unregister, Subscribe and Leader (PROTOCOL.md §5.1).
type Args struct {
	Name  string
	Addr  string
	Attrs map[string]string
}

// ServiceUpdate is a stream item and the Leader reply (PROTOCOL.md §5.1).
type ServiceUpdate struct {
	Name    string
	Addr    string
	Online  bool
	Attrs   map[string]string
	Created uint64
}

// Empty is the empty struct of error bodies, Unregister replies and CloseStream bodies.
type Empty struct{}

const (
	connectLine   = "CONNECT /_goRPC_ HTTP/1.0\r\n"
	connectHeader = "Accept: application/vnd.flynn.rpc-hijack+gob\r\n"
	connectEnd    = "\r\n"
	connectedLine = "HTTP/1.0 200 Connected to Go RPC\n\n"
)

// isSentinel tells the end-of-snapshot marker (PROTOCOL.md §5.5.1).
func (u ServiceUpdate) isSentinel() bool { return u.Name == "" && u.Addr == "" }

func (u ServiceUpdate) String() string {
	return fmt.Sprintf("{Name:%q Addr:%q Online:%v Attrs:%v Created:%d}", u.Name, u.Addr, u.Online, attrsString(u.Attrs), u.Created)
}

func attrsString(m map[string]string) string {
	if m == nil {
		return "nil"
	}
	return fmt.Sprintf("%v", m)
}

// Frame is one decoded response: its header and its body (string, ServiceUpdate or Empty).
type Frame struct {
	Header Response
	Body   interface{}
	At     time.Time
}

// bodyFor returns a pointer to decode a response body into, chosen the way the Go client does:
// error responses and final frames carry an empty struct; success bodies by method.
func bodyFor(method string, errText string) interface{} {
	if errText != "" {
		return new(Empty)
	}
	switch method {
	case "Agent.Register":
		return new(string)
	case "Agent.Subscribe", "Agent.Leader":
		return new(ServiceUpdate)
	default:
		return new(Empty)
	}
}

func deref(p interface{}) interface{} {
	switch v := p.(type) {
	case *string:
		return *v
	case *ServiceUpdate:
		return *v
	case *Empty:
		return *v
	case *Args:
		return *v
	}
	return p
}

// Handshake writes the CONNECT request in three writes, as the Go client does, and reads the
// 34-byte answer exactly (PROTOCOL.md §1.2, §1.3).
func Handshake(conn net.Conn) error {
	for _, part := range []string{connectLine, connectHeader, connectEnd} {
		if _, err := conn.Write([]byte(part)); err != nil {
			return fmt.Errorf("write CONNECT: %v", err)
		}
	}
	return ReadConnected(conn)
}

// ReadConnected reads exactly the 200 answer and checks it byte for byte.
func ReadConnected(conn net.Conn) error {
	buf := make([]byte, len(connectedLine))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer conn.SetReadDeadline(time.Time{})
	if _, err := io.ReadFull(conn, buf); err != nil {
		return fmt.Errorf("read CONNECT answer: %v (got %q)", err, buf)
	}
	if string(buf) != connectedLine {
		return fmt.Errorf("CONNECT answer %q, want %q", buf, connectedLine)
	}
	return nil
}

// DialRaw connects and upgrades, returning the bare connection.
func DialRaw(addr string) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	if err := Handshake(conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

type call struct {
	method string
	stream bool
	frames chan Frame
}

// Client is one upgraded gob connection with calls dispatched by Seq. Safe for concurrent use.
type Client struct {
	conn net.Conn
	enc  *gob.Encoder
	dec  *gob.Decoder
	bw   *bufio.Writer

	wmu sync.Mutex // serialises whole requests (header + body) on the wire

	mu      sync.Mutex
	nextSeq uint64
	pending map[uint64]*call
	err     error
	done    chan struct{}
}

// Dial connects to a daemon and starts the reader.
func Dial(addr string) (*Client, error) {
	conn, err := DialRaw(addr)
	if err != nil {
		return nil, err
	}
	return NewClient(conn), nil
}

// NewClient wraps an upgraded connection.
func NewClient(conn net.Conn) *Client {
	bw := bufio.NewWriter(conn)
	c := &Client{conn: conn, bw: bw, enc: gob.NewEncoder(bw), dec: gob.NewDecoder(bufio.NewReader(conn)),
		pending: map[uint64]*call{}, done: make(chan struct{})}
	go c.read()
	return c
}

// Close closes the connection; pending calls fail.
func (c *Client) Close() error { return c.conn.Close() }

// Done is closed when the reader stops; Err then tells why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is the reason the reader stopped (nil while it runs).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Client) read() {
	var err error
	for {
		var h Response
		if err = c.dec.Decode(&h); err != nil {
			break
		}
		c.mu.Lock()
		cl := c.pending[h.Seq]
		c.mu.Unlock()
		if cl == nil {
			err = fmt.Errorf("response for unknown Seq %d: %+v", h.Seq, h)
			break
		}
		if h.ServiceMethod != cl.method {
			err = fmt.Errorf("response Seq %d has ServiceMethod %q, the call was %q", h.Seq, h.ServiceMethod, cl.method)
			break
		}
		body := bodyFor(cl.method, h.Error)
		if err = c.dec.Decode(body); err != nil {
			err = fmt.Errorf("decode body of %+v: %v", h, err)
			break
		}
		f := Frame{Header: h, Body: deref(body), At: time.Now()}
		c.mu.Lock()
		if !cl.stream || h.Error != "" {
			delete(c.pending, h.Seq)
		}
		c.mu.Unlock()
		select {
		case cl.frames <- f:
		default:
			err = fmt.Errorf("client queue full for Seq %d", h.Seq)
		}
		if err != nil {
			break
		}
	}
	c.mu.Lock()
	c.err = err
	for _, cl := range c.pending {
		close(cl.frames)
	}
	c.pending = map[uint64]*call{}
	c.mu.Unlock()
	close(c.done)
}

// start registers a call with the given Seq (or the next one when seq is nil) and writes its
// header and body with the connection's gob encoder.
func (c *Client) start(method string, seq *uint64, body interface{}, stream bool) (uint64, *call, error) {
	return c.startWith(method, seq, nil, body, stream)
}

// startWith is start with an arbitrary header value (nil: a Request).
func (c *Client) startWith(method string, seq *uint64, header interface{}, body interface{}, stream bool) (uint64, *call, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.err != nil || isClosed(c.done) {
		c.mu.Unlock()
		return 0, nil, fmt.Errorf("connection down: %v", c.err)
	}
	var s uint64
	if seq != nil {
		s = *seq
	} else {
		s = c.nextSeq
		c.nextSeq++
	}
	if _, dup := c.pending[s]; dup {
		c.mu.Unlock()
		return 0, nil, fmt.Errorf("Seq %d in use", s)
	}
	n := 1
	if stream {
		n = 1 << 14
	}
	cl := &call{method: method, stream: stream, frames: make(chan Frame, n)}
	c.pending[s] = cl
	c.mu.Unlock()
	if header == nil {
		header = &Request{ServiceMethod: method, Seq: s}
	}
	if err := c.enc.Encode(header); err != nil {
		return 0, nil, err
	}
	if err := c.enc.Encode(body); err != nil {
		return 0, nil, err
	}
	return s, cl, c.bw.Flush()
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// WriteRaw writes bytes on the connection between whole requests.
func (c *Client) WriteRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.bw.Write(b); err != nil {
		return err
	}
	return c.bw.Flush()
}

// Pending is an outstanding non-stream call.
type Pending struct {
	Seq  uint64
	call *call
}

// Go sends a call without waiting for its reply.
func (c *Client) Go(method string, body interface{}) (*Pending, error) {
	s, cl, err := c.start(method, nil, body, false)
	if err != nil {
		return nil, err
	}
	return &Pending{Seq: s, call: cl}, nil
}

// GoSeq sends a call with an explicit Seq.
func (c *Client) GoSeq(method string, seq uint64, body interface{}) (*Pending, error) {
	s, cl, err := c.start(method, &seq, body, false)
	if err != nil {
		return nil, err
	}
	return &Pending{Seq: s, call: cl}, nil
}

// Wait waits for the reply of a call.
func (c *Client) Wait(p *Pending, timeout time.Duration) (Frame, error) {
	select {
	case f, ok := <-p.call.frames:
		if !ok {
			return Frame{}, fmt.Errorf("connection closed before the reply to Seq %d (%s): %v", p.Seq, p.call.method, c.Err())
		}
		return f, nil
	case <-time.After(timeout):
		return Frame{}, fmt.Errorf("no reply to Seq %d (%s) within %v", p.Seq, p.call.method, timeout)
	}
}

// Call sends a call and waits for its reply frame (error responses are returned as frames).
func (c *Client) Call(method string, body interface{}) (Frame, error) {
	p, err := c.Go(method, body)
	if err != nil {
		return Frame{}, err
	}
	return c.Wait(p, callTimeout)
}

var callTimeout = 10 * time.Second

// Register calls Agent.Register and returns the expanded address.
func (c *Client) Register(name, addr string, attrs map[string]string) (string, error) {
	f, err := c.Call("Agent.Register", &Args{Name: name, Addr: addr, Attrs: attrs})
	if err != nil {
		return "", err
	}
	if f.Header.Error != "" {
		return "", errors.New(f.Header.Error)
	}
	return f.Body.(string), nil
}

// Unregister calls Agent.Unregister.
func (c *Client) Unregister(name, addr string) error {
	f, err := c.Call("Agent.Unregister", &Args{Name: name, Addr: addr})
	if err != nil {
		return err
	}
	if f.Header.Error != "" {
		return errors.New(f.Header.Error)
	}
	return nil
}

// Leader calls the Agent.Leader extension (PROTOCOL.md §5.11).
func (c *Client) Leader(name string) (ServiceUpdate, error) {
	f, err := c.Call("Agent.Leader", &Args{Name: name})
	if err != nil {
		return ServiceUpdate{}, err
	}
	if f.Header.Error != "" {
		return ServiceUpdate{}, errors.New(f.Header.Error)
	}
	return f.Body.(ServiceUpdate), nil
}

// Stream is an Agent.Subscribe call.
type Stream struct {
	Seq    uint64
	Name   string
	c      *Client
	frames chan Frame
	Final  *Frame // the final frame, once read
}

// Subscribe opens a stream.
func (c *Client) Subscribe(name string) (*Stream, error) {
	s, cl, err := c.start("Agent.Subscribe", nil, &Args{Name: name}, true)
	if err != nil {
		return nil, err
	}
	return &Stream{Seq: s, Name: name, c: c, frames: cl.frames}, nil
}

// errTimeout is returned by Next when nothing arrived in time.
var errTimeout = errors.New("timeout")

// Next returns the next frame of the stream; errTimeout if none within d.
func (s *Stream) Next(d time.Duration) (Frame, error) {
	if s.Final != nil {
		return Frame{}, fmt.Errorf("stream Seq %d already ended with %q", s.Seq, s.Final.Header.Error)
	}
	select {
	case f, ok := <-s.frames:
		if !ok {
			return Frame{}, fmt.Errorf("connection closed under stream Seq %d: %v", s.Seq, s.c.Err())
		}
		if f.Header.Error != "" {
			s.Final = &f
		}
		return f, nil
	case <-time.After(d):
		return Frame{}, errTimeout
	}
}

// NextUpdate returns the next item; a final frame or a timeout is an error.
func (s *Stream) NextUpdate(d time.Duration) (ServiceUpdate, error) {
	f, err := s.Next(d)
	if err == errTimeout {
		return ServiceUpdate{}, fmt.Errorf("stream Seq %d (%q): no item within %v", s.Seq, s.Name, d)
	}
	if err != nil {
		return ServiceUpdate{}, err
	}
	if f.Header.Error != "" {
		return ServiceUpdate{}, fmt.Errorf("stream Seq %d (%q) ended with %q", s.Seq, s.Name, f.Header.Error)
	}
	return f.Body.(ServiceUpdate), nil
}

// Snapshot reads the items up to the sentinel.
func (s *Stream) Snapshot(d time.Duration) ([]ServiceUpdate, error) {
	var out []ServiceUpdate
	deadline := time.Now().Add(d)
	for {
		u, err := s.NextUpdate(time.Until(deadline))
		if err != nil {
			return out, fmt.Errorf("snapshot of %q (have %v): %v", s.Name, out, err)
		}
		if u.isSentinel() {
			if u.Online || u.Attrs != nil || u.Created != 0 {
				return out, fmt.Errorf("sentinel of %q is not all zero: %v", s.Name, u)
			}
			return out, nil
		}
		out = append(out, u)
	}
}

// ExpectQuiet fails if any frame arrives within d.
func (s *Stream) ExpectQuiet(d time.Duration) error {
	f, err := s.Next(d)
	if err == errTimeout {
		return nil
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("stream Seq %d (%q): unexpected frame %+v %v", s.Seq, s.Name, f.Header, f.Body)
}

// Close sends CloseStream for the stream (PROTOCOL.md §2.4); it gets no response.
func (s *Stream) Close() error {
	return s.c.CloseStream(s.Seq)
}

// CloseStream sends a CloseStream request naming seq, with an empty-struct body.
func (c *Client) CloseStream(seq uint64) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.enc.Encode(&Request{ServiceMethod: "CloseStream", Seq: seq}); err != nil {
		return err
	}
	if err := c.enc.Encode(&Empty{}); err != nil {
		return err
	}
	return c.bw.Flush()
}

// AwaitEOS reads the stream until its final frame, which must be EOS; items before it are returned.
func (s *Stream) AwaitEOS(d time.Duration) ([]ServiceUpdate, error) {
	var items []ServiceUpdate
	deadline := time.Now().Add(d)
	for {
		f, err := s.Next(time.Until(deadline))
		if err == errTimeout {
			return items, fmt.Errorf("stream Seq %d: no EOS within %v", s.Seq, d)
		}
		if err != nil {
			return items, err
		}
		if f.Header.Error != "" {
			if f.Header.Error != "EOS" {
				return items, fmt.Errorf("stream Seq %d ended with %q, want EOS", s.Seq, f.Header.Error)
			}
			if f.Header.ServiceMethod != "Agent.Subscribe" {
				return items, fmt.Errorf("final frame ServiceMethod %q", f.Header.ServiceMethod)
			}
			return items, nil
		}
		items = append(items, f.Body.(ServiceUpdate))
	}
}

// encodeAll encodes values with a fresh gob encoder and returns the bytes.
func encodeAll(vals ...interface{}) []byte {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	for _, v := range vals {
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
	}
	return buf.Bytes()
}
