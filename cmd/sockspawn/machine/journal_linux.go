package machine

import (
	"github.com/sockspawn/sockspawn/internal/systemd"
	"github.com/sockspawn/sockspawn/payload"
	"github.com/sockspawn/sockspawn/units"
)

// journalAction decides what --link-journal does for this container,
// from the host's state; nothing is changed yet (payload.ApplyJournal).
func journalAction(c units.Config, d decision, warn func(string)) (payload.JournalAction, error) {
	if c.LinkJournal == units.LinkJournalNo {
		return payload.JournalAction{}, nil // nothing of the host to look at
	}
	volatile := c.Volatile
	if volatile == "" {
		volatile = systemd.VolatileNo
	}
	id := payload.ContainerMachineID(d.Image, volatile, d.UUID)
	a, skip, err := payload.PlanJournal(string(c.LinkJournal), volatile, d.Image, id, payload.InspectJournal(id))
	if skip != "" {
		warn(skip)
	}
	linked := "not linked"
	if a.Linked() {
		linked = "linked at " + a.HostPath
	}
	trace("journal of machine ID " + id + ": " + linked)
	return a, err
}

// journalOwner is the host UID and GID of the container's root with -U,
// to own a journal directory made on the host; nil without -U.
func journalOwner(r *payload.UserRange) *[2]int {
	if r == nil {
		return nil
	}
	return &[2]int{int(r.Base), int(r.Base)}
}
