package machine

import (
	"github.com/sockspawn/sockspawn/cmd/sockspawn/control"
	"github.com/sockspawn/sockspawn/payload"
)

// serveControl opens the machine's control socket (`sockspawn login`,
// `sockspawn bind`) once its init runs. The stage's tty masters stay the
// supervisor's; they are closed with the stage's other files when the
// supervisor ends.
func serveControl(st *payload.Stage, d decision) (*control.Server, error) {
	names := make([]string, len(st.TTYs))
	for i, m := range st.TTYs {
		n, err := payload.TTYName(m)
		if err != nil {
			return nil, err
		}
		names[i] = n
	}
	pidfd := st.PidFD
	if pidfd < 0 {
		return control.Listen(d.Machine, st.TTYs, names, nil) // no pidfd: no live binds
	}
	return control.Listen(d.Machine, st.TTYs, names, newLiveBinder(pidfd).bind)
}
