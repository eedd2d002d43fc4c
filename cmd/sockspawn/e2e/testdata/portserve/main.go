// Command portserve is a test payload: it answers on a TCP port with an
// HTTP page naming the machine and the port, and echoes UDP datagrams
// on the same port with the machine's name in front, on IPv4 and IPv6.
//
//	portserve PORT
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: portserve PORT")
		os.Exit(2)
	}
	port := os.Args[1]
	host, _ := os.Hostname()
	udp, err := net.ListenPacket("udp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := udp.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = udp.WriteTo(append([]byte(host+" "), buf[:n]...), from)
		}
	}()
	ln, err := net.Listen("tcp", ":"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("listening")
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s port %s, client %s\n", host, port, r.RemoteAddr)
	}))
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
