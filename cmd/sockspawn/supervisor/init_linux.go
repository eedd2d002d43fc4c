package supervisor

import (
	"syscall"

	"github.com/sockspawn/sockspawn/activation"
	"github.com/sockspawn/sockspawn/payload"
)

// StageInit is the init of a started stage, as the loop sees it.
func StageInit(st *payload.Stage) Init { return stageInit{st} }

type stageInit struct{ st *payload.Stage }

func (i stageInit) Signal(sig syscall.Signal) error { return i.st.Signal(sig) }

func (i stageInit) HaltHandled() bool {
	ok, _ := activation.HaltHandled(i.st.Cmd.Process.Pid)
	return ok
}

func (i stageInit) IsSystemd() bool { return activation.IsSystemd(i.st.Cmd.Process.Pid) }
