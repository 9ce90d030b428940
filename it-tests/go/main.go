// Command gobclient is the Go interop client of the end-to-end tests: it talks to a discoverd
// daemon the way the original Go client library does (flynn/rpcplus over HTTP CONNECT, gob),
// with every RPC value encoded and decoded by the standard library's encoding/gob, so that Go,
// not the project's own codec, judges the daemon's bytes.
//
// Usage:
//
//	gobclient replay -addr 127.0.0.1:PORT -file testdata/wire/gob-register.txt [-renumber] [-onewrite] [-clean=false]
//	gobclient <scenario> -addr 127.0.0.1:PORT [-addr2 127.0.0.1:PORT2] [-ttl 2s] [-prefix NAME]
//	gobclient heartbeat -addr 127.0.0.1:PORT -name NAME -ports 7001,7002 [-interval 1s] [-redial 200ms] [-for 0]
//	gobclient watch -addr 127.0.0.1:PORT -name NAME [-redial 200ms] [-for 0]
//	gobclient list
//
// heartbeat and watch run until killed and print one JSON object per line (longrun.go); every
// other subcommand prints "PASS <name> [#items]" and exits 0, or prints "FAIL <name>: reason"
// and exits 1 (2 for usage errors).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// replayItems names the checklist items (PROTOCOL.md §8) each capture shows.
var replayItems = map[string]string{
	"gob-register.txt":       "#10",
	"gob-register-error.txt": "#11",
	"gob-subscribe.txt":      "#29 #31 #32",
	"gob-unregister.txt":     "#27 #28 #34",
	"gob-closestream.txt":    "#38",
	"gob-unknown-method.txt": "#12 #13",
	"gob-session.txt":        "#10 #11 #12 #13 #27 #28 #29 #31 #32 #34 #38",
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	addr := fs.String("addr", "", "the daemon, host:port")
	addr2 := fs.String("addr2", "", "a second daemon on the same store, host:port")
	file := fs.String("file", "", "replay: the capture file")
	renumber := fs.Bool("renumber", false, "replay: renumber the client's type ids (#14)")
	oneWrite := fs.Bool("onewrite", false, "replay: CONNECT and the first request in one write (#9)")
	clean := fs.Bool("clean", true, "replay: unregister the capture's names first")
	ttl := fs.Duration("ttl", 0, "the daemon's registrationTtl (for #36, #37, #40, #47)")
	prefix := fs.String("prefix", fmt.Sprintf("gob%d-%d", os.Getpid(), time.Now().UnixNano()%1e6), "service name prefix")
	name := fs.String("name", "", "heartbeat, watch: the service name (exact, no prefix)")
	ports := fs.String("ports", "", "heartbeat: the instances, as ports of :PORT addresses, e.g. 7001,7002")
	interval := fs.Duration("interval", time.Second, "heartbeat: the heartbeat period")
	redial := fs.Duration("redial", 200*time.Millisecond, "heartbeat, watch: pause between dial attempts")
	runFor := fs.Duration("for", 0, "heartbeat, watch: how long to run (0: until killed)")
	fs.Parse(os.Args[2:])

	if cmd == "list" {
		fmt.Println("replay")
		for _, s := range Scenarios {
			fmt.Println(s.Name, s.Items)
		}
		return
	}
	if *addr == "" {
		fmt.Fprintln(os.Stderr, "missing -addr")
		os.Exit(2)
	}
	if cmd == "heartbeat" || cmd == "watch" {
		ps, err := parsePorts(*ports)
		if err != nil || *name == "" || (cmd == "heartbeat" && len(ps) == 0) {
			fmt.Fprintln(os.Stderr, "heartbeat needs -name and -ports; watch needs -name")
			os.Exit(2)
		}
		o := LongRunOptions{Addr: *addr, Name: *name, Ports: ps, Interval: *interval, Redial: *redial, For: *runFor}
		if cmd == "heartbeat" {
			runHeartbeat(o)
		} else {
			runWatch(o)
		}
		return
	}
	if cmd == "replay" {
		if *file == "" {
			fmt.Fprintln(os.Stderr, "missing -file")
			os.Exit(2)
		}
		base := filepath.Base(*file)
		items := replayItems[base]
		label := "replay " + base
		if *renumber {
			label += " renumbered"
			items += " #14"
		}
		if *oneWrite {
			label += " one-write"
			items += " #9"
		}
		err := runReplay(*addr, *file, ReplayOptions{Renumber: *renumber, OneWrite: *oneWrite, Clean: *clean})
		finish(label, "["+strings.TrimSpace(items)+"]", err)
		return
	}
	for _, s := range Scenarios {
		if s.Name == cmd {
			env := &Env{Addr: *addr, Addr2: *addr2, TTL: *ttl, Prefix: *prefix}
			finish(s.Name, s.Items, s.Run(env))
			return
		}
	}
	fmt.Fprintf(os.Stderr, "unknown subcommand %q\n", cmd)
	usage()
}

func finish(name, items string, err error) {
	if err != nil {
		fmt.Printf("FAIL %s %s: %v\n", name, items, err)
		os.Exit(1)
	}
	fmt.Printf("PASS %s %s\n", name, items)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gobclient replay|<scenario>|list -addr HOST:PORT [flags]; gobclient list shows the scenarios")
	os.Exit(2)
}
