package machine

import (
	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// planInput is what the container's plan takes from the host and from
// what the run made, beside the configuration and the decision.
type planInput struct {
	root        string // the runtime directory, where the stage builds the root
	osRelease   []byte // the host's
	term        string // the host's $TERM, passed on to an interactive console
	timezone    string // the host's time zone
	creds       []payload.File
	listenFDs   int
	listenNames []string // nil: LISTEN_FDNAMES stays unset
	userNS      *payload.IDMap
	netns       bool // a network namespace to join (--network-namespace-path)
	journal     payload.JournalAction
	boundUsers  []payload.BoundUser
}

// planOptions is what payload.NewPlan makes the container's plan from.
func planOptions(c units.Config, d decision, in planInput) payload.Options {
	mode := consoleMode(d.Console)
	term := ""
	if d.Console == units.ConsoleInteractive {
		term = in.term
	}
	env := payload.Environment(payload.EnvInput{
		UUID:        d.UUID,
		OSRelease:   in.osRelease,
		Term:        term,
		Credentials: len(in.creds) > 0,
		Listen:      activation.ListenEnv(in.listenFDs, in.listenNames),
		TTYs:        payload.TTYNames(mode, c.TTYs),
		User:        c.Environment,
	})
	return payload.Options{
		Image:        d.Image,
		Root:         in.root,
		Hostname:     d.Hostname,
		Volatile:     c.Volatile,
		Binds:        payloadBinds(c.Binds),
		Console:      mode,
		Argv:         d.Argv,
		Env:          env,
		ListenFDs:    in.listenFDs,
		UUID:         d.UUID,
		OSRelease:    in.osRelease,
		Credentials:  in.creds,
		AsPid2:       c.AsPid2,
		Timezone:     in.timezone,
		TimezoneMode: c.Timezone,
		UserNS:       in.userNS,
		// With -U the namespace to join is not its user namespace's.
		PrivateNetwork: c.OwnNetwork() || in.netns && !d.Users.Enabled,
		KeepCaps:       units.CapabilityNumbers(c.Capabilities),
		DropCaps:       units.CapabilityNumbers(c.DropCapabilities),
		Journal:        in.journal,
		Incoming:       d.Tunnel,
		UnixExport:     payload.UnixExportPath(d.Machine),
		TTYs:           c.TTYs,
		BindUsers:      in.boundUsers,
	}
}

// consoleMode is the payload's console for a --console mode: a pty,
// except with --console=pipe.
func consoleMode(c units.Console) string {
	if c == units.ConsolePipe {
		return payload.ConsolePipe
	}
	return payload.ConsolePTY
}

// userMap is the user namespace mapping of a reserved range, or nil.
func userMap(r *payload.UserRange) *payload.IDMap {
	if r == nil {
		return nil
	}
	return &r.IDMap
}

// payloadPorts converts the user's ports to the payload's plain form.
func payloadPorts(ps []units.Port) []payload.PortForward {
	out := make([]payload.PortForward, 0, len(ps))
	for _, p := range ps {
		out = append(out, payload.PortForward{Proto: p.Proto, Host: p.Host, Container: p.Container})
	}
	return out
}

// payloadBinds converts the user's binds to the payload's plain form.
func payloadBinds(bs []units.Bind) []payload.BindMount {
	out := make([]payload.BindMount, 0, len(bs))
	for _, b := range bs {
		out = append(out, payload.BindMount{Source: b.Source, Target: b.Target, ReadOnly: b.ReadOnly, Recursive: b.Recursive})
	}
	return out
}
