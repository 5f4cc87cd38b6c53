// SPDX-License-Identifier: Apache-2.0
package connpool

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/libconnpool/connpool-go/internal/native"
)

func isOpenIn(f *fakeFactory, c *fakeConn) bool {
	_, ok := f.openConns.Load(c)
	return ok
}

type groupStats struct {
	Name     string `json:"name"`
	Writable bool   `json:"writable"`
	Counters struct {
		Acquired      int64 `json:"acquired"`
		ReadFallbacks int64 `json:"read_fallbacks"`
	} `json:"counters"`
	Members []struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		State    string `json:"state"`
		Attached bool   `json:"attached"`
		Stats    *Stats `json:"stats"`
	} `json:"members"`
}

func readGroupStats(t *testing.T, g *Group[*fakeConn]) groupStats {
	t.Helper()
	text, err := g.StatsJSON()
	if err != nil {
		t.Fatalf("StatsJSON: %v", err)
	}
	var s groupStats
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		t.Fatalf("group stats: %v\n%s", err, text)
	}
	return s
}

// readyPool is a pool that has connected (a starting replica is not yet healthy: reads would
// skip it).
func readyPool(t *testing.T, f *fakeFactory, cfg Config) *Pool[*fakeConn] {
	t.Helper()
	p := newPool(t, f, cfg)
	if err := p.WaitReady(long); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return p
}

func newGroup(t *testing.T, name string) *Group[*fakeConn] {
	t.Helper()
	g, err := NewGroup[*fakeConn](name)
	if err != nil {
		t.Fatalf("NewGroup: %v", err)
	}
	return g
}

func TestGroupConstantsMatchTheCLibrary(t *testing.T) {
	if int(RolePrimary) != int(native.PRIMARY) || int(RoleReplica) != int(native.REPLICA) ||
		int(RoleShard) != int(native.SHARD) || int(IntentWrite) != int(native.WRITE) ||
		int(IntentRead) != int(native.READ) {
		t.Fatal("Role/Intent constants differ from CONNPOOL_ROLE_*/CONNPOOL_INTENT_*")
	}
}

func TestGroupRoutesByRoleAndLeasesReturnToTheirMember(t *testing.T) {
	fp, fr := &fakeFactory{}, &fakeFactory{}
	primary := readyPool(t, fp, Config{"max_size": 2})
	replica := readyPool(t, fr, Config{"max_size": 2})
	g := newGroup(t, "orders")
	if err := g.Add("main", RolePrimary, primary); err != nil {
		t.Fatal(err)
	}
	if err := g.Add("r1", RoleReplica, replica); err != nil {
		t.Fatal(err)
	}
	w, err := g.Acquire(IntentWrite, long)
	if err != nil {
		t.Fatal(err)
	}
	if !isOpenIn(fp, w.Conn()) {
		t.Error("a write must be served by the primary")
	}
	w.Release()
	r, err := g.Acquire(IntentRead, long)
	if err != nil {
		t.Fatal(err)
	}
	if !isOpenIn(fr, r.Conn()) {
		t.Error("a read must be served by the replica")
	}
	if n := stats(t, replica).Connections.InUse; n != 1 {
		t.Errorf("replica in_use = %d, want 1", n)
	}
	r.Release()
	s := readGroupStats(t, g)
	if s.Name != "orders" || s.Counters.Acquired != 2 || len(s.Members) != 2 ||
		s.Members[0].Role != "primary" || s.Members[1].Role != "replica" || s.Members[1].Stats == nil {
		t.Errorf("unexpected group stats %+v", s)
	}
	g.Close()
	g.Close() // idempotent
	primary.Close()
	replica.Close()
	if fp.created.Load() != fp.destroyed.Load() || fr.created.Load() != fr.destroyed.Load() {
		t.Error("connections leaked")
	}
}

func TestGroupReadsFallBackAndWritesFailFast(t *testing.T) {
	fp, fr, dead := &fakeFactory{}, &fakeFactory{}, &fakeFactory{}
	fr.fatal.Store(true)
	dead.fatal.Store(true)
	primary := readyPool(t, fp, Config{"max_size": 2})
	replica := newPool(t, fr, Config{"max_size": 2})
	deadPrimary := newPool(t, dead, Config{"max_size": 2})
	defer primary.Close()
	defer replica.Close()
	defer deadPrimary.Close()
	waitUntil(t, long, "replica unavailable", func() bool { return replica.State() == Unavailable })
	waitUntil(t, long, "dead primary unavailable", func() bool { return deadPrimary.State() == Unavailable })
	g := newGroup(t, "reads")
	defer g.Close()
	g.Add("main", RolePrimary, primary)
	g.Add("r1", RoleReplica, replica)
	lease, err := g.Acquire(IntentRead, long)
	if err != nil {
		t.Fatal(err)
	}
	if !isOpenIn(fp, lease.Conn()) {
		t.Error("the unavailable replica must be skipped")
	}
	lease.Release()
	if s := readGroupStats(t, g); s.Counters.ReadFallbacks != 1 {
		t.Errorf("read_fallbacks = %d, want 1", s.Counters.ReadFallbacks)
	}

	w := newGroup(t, "writes")
	defer w.Close()
	w.Add("main", RolePrimary, deadPrimary)
	t0 := time.Now()
	_, err = w.Acquire(IntentWrite, long)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("write on an unavailable primary: %v, want ErrUnavailable", err)
	}
	if time.Since(t0) > 5*time.Second {
		t.Error("the write waited instead of failing fast")
	}
	if s := readGroupStats(t, w); s.Writable {
		t.Error("writable must be false")
	}
}

func TestGroupBadInputIsErrInvalidWithTheReason(t *testing.T) {
	f := &fakeFactory{}
	p := newPool(t, f, nil)
	q := newPool(t, f, nil)
	defer p.Close()
	defer q.Close()
	if _, err := NewGroup[*fakeConn](""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty name: %v", err)
	}
	g := newGroup(t, "g")
	other := newGroup(t, "other")
	defer other.Close()
	if err := g.Add("main", RolePrimary, p); err != nil {
		t.Fatal(err)
	}
	check := func(err error, want string) {
		t.Helper()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want ErrInvalid mentioning %q", err, want)
		}
	}
	check(g.Add("main", RoleReplica, q), "already used")
	check(other.Add("x", RoleReplica, p), "already belongs")
	_, err := g.AcquireKey(1, long)
	check(err, "no shard")
	_, err = g.Acquire(Intent(9), long)
	check(err, "unknown intent 9")
	g.Close()
	if _, err := g.Acquire(IntentRead, long); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}

func TestGroupKeysStickToTheirShardAndAClosedShardsKeysFail(t *testing.T) {
	fs := []*fakeFactory{{}, {}, {}}
	g := newGroup(t, "users")
	defer g.Close()
	var shards []*Pool[*fakeConn]
	for i, f := range fs {
		p := readyPool(t, f, Config{"max_size": 2})
		defer p.Close()
		shards = append(shards, p)
		if err := g.Add("shard-"+string(rune('0'+i)), RoleShard, p); err != nil {
			t.Fatal(err)
		}
	}
	owner := make([]int, 60)
	for k := range owner {
		l, err := g.AcquireKey(uint64(k), long)
		if err != nil {
			t.Fatal(err)
		}
		owner[k] = -1
		for i, f := range fs {
			if isOpenIn(f, l.Conn()) {
				owner[k] = i
			}
		}
		l.Release()
		again, err := g.AcquireKey(uint64(k), long)
		if err != nil || !isOpenIn(fs[owner[k]], again.Conn()) {
			t.Fatalf("key %d moved: %v", k, err)
		}
		again.Release()
	}
	shards[1].Close() // while still in the group: detached, its keys fail
	for k := range owner {
		l, err := g.AcquireKey(uint64(k), long)
		if owner[k] == 1 {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("key %d of the closed shard: %v, want ErrClosed", k, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("key %d: %v", k, err)
		}
		l.Release()
	}
}
