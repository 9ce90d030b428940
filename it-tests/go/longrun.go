package main

// Long-running subcommands for the restart and drain tests (issue 3, PROTOCOL.md §8 #47, #48):
// "heartbeat" keeps instances alive through one daemon the way a client library does, and
// "watch" subscribes through one daemon and reports every update. Both print one JSON object per
// line on stdout, run until they are killed (or -for has passed), and redial every -redial when
// the daemon goes away, so a test can restart the daemon under them on the same address.

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LongRunOptions are the flags of heartbeat and watch.
type LongRunOptions struct {
	Addr     string
	Name     string
	Ports    []int
	Interval time.Duration // heartbeat period
	Redial   time.Duration // pause between dial attempts while the daemon is away
	For      time.Duration // 0: until killed
}

// event is one output line: "ev" names it, "t" is the local time in Unix ms.
type event map[string]interface{}

var outMu sync.Mutex

func emit(ev string, fields event) {
	if fields == nil {
		fields = event{}
	}
	fields["ev"] = ev
	fields["t"] = time.Now().UnixMilli()
	b, err := json.Marshal(fields)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"ev":"bug","err":%q}`, err.Error()))
	}
	outMu.Lock()
	defer outMu.Unlock()
	os.Stdout.Write(append(b, '\n'))
}

// parsePorts reads "7001,7002".
func parsePorts(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func (o LongRunOptions) expired(start time.Time) bool {
	return o.For > 0 && time.Since(start) >= o.For
}

// dialUntilUp dials every o.Redial until it succeeds (or -for has passed: nil).
func dialUntilUp(o LongRunOptions, start time.Time) *Client {
	failures := 0
	for !o.expired(start) {
		c, err := Dial(o.Addr)
		if err == nil {
			emit("connected", event{"failures": failures})
			return c
		}
		if failures == 0 {
			emit("dial-failed", event{"err": err.Error()})
		}
		failures++
		time.Sleep(o.Redial)
	}
	return nil
}

// runHeartbeat registers ":<port>" under o.Name for every port, then again every o.Interval (the
// same Args: a heartbeat, PROTOCOL.md §5.3). It prints "round" with ok=true once every instance
// of a round got a success reply, "register-error" for an error reply, and "disconnected" when
// the connection fails; it then redials and goes on.
func runHeartbeat(o LongRunOptions) {
	start := time.Now()
	for round := 0; !o.expired(start); {
		c := dialUntilUp(o, start)
		if c == nil {
			return
		}
		for !o.expired(start) {
			began := time.Now()
			ok := true
			var down error
			addrs := map[string]string{}
			for _, p := range o.Ports {
				f, err := c.Call("Agent.Register", &Args{Name: o.Name, Addr: fmt.Sprintf(":%d", p)})
				if err != nil {
					down = err
					break
				}
				if f.Header.Error != "" {
					ok = false
					emit("register-error", event{"port": p, "err": f.Header.Error})
					continue
				}
				addrs[strconv.Itoa(p)] = f.Body.(string)
			}
			if down != nil {
				emit("disconnected", event{"err": down.Error()})
				c.Close()
				break
			}
			emit("round", event{"round": round, "ok": ok, "addrs": addrs})
			round++
			time.Sleep(time.Until(began.Add(o.Interval)))
		}
	}
}

func updateEvent(u ServiceUpdate, snapshot bool) event {
	return event{"Name": u.Name, "Addr": u.Addr, "Online": u.Online, "Attrs": u.Attrs, "Created": u.Created, "snapshot": snapshot}
}

// runWatch subscribes to o.Name and prints every item as "update" (snapshot=true before the
// sentinel), the sentinel as "sentinel", and "disconnected" when the connection or the stream
// ends (an error frame); it then redials and subscribes again, printing the new snapshot.
func runWatch(o LongRunOptions) {
	start := time.Now()
	for !o.expired(start) {
		c := dialUntilUp(o, start)
		if c == nil {
			return
		}
		s, err := c.Subscribe(o.Name)
		if err != nil {
			emit("disconnected", event{"err": err.Error()})
			c.Close()
			continue
		}
		emit("subscribed", event{"seq": s.Seq})
		inSnapshot := true
		for !o.expired(start) {
			f, err := s.Next(200 * time.Millisecond)
			if err == errTimeout {
				continue
			}
			if err != nil {
				emit("disconnected", event{"err": err.Error()})
				break
			}
			if f.Header.Error != "" {
				emit("disconnected", event{"err": "stream ended: " + f.Header.Error})
				break
			}
			u := f.Body.(ServiceUpdate)
			if inSnapshot && u.isSentinel() {
				inSnapshot = false
				emit("sentinel", nil)
				continue
			}
			emit("update", updateEvent(u, inSnapshot))
		}
		c.Close()
	}
}
