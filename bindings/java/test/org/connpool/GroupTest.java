// SPDX-License-Identifier: Apache-2.0
package org.connpool;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class GroupTest {
  static final Duration LONG = Duration.ofSeconds(10);

  static Pool<FakeFactory.Conn> pool(FakeFactory f, String name) {
    return Pool.builder(f).name(name).maxSize(2).set("retry_initial_ms", 10).set("retry_max_ms", 50).build();
  }

  /** A pool that has connected (a starting replica is not yet healthy: reads would skip it). */
  static Pool<FakeFactory.Conn> ready(FakeFactory f, String name) {
    Pool<FakeFactory.Conn> p = pool(f, name);
    p.awaitReady(LONG);
    return p;
  }

  static List<GroupStats.Member> members(Group<?> g) {
    return g.stats().members();
  }

  @Test
  void routesByRoleAndLeasesReturnToTheirMember() {
    FakeFactory fp = new FakeFactory(), fr = new FakeFactory();
    try (Pool<FakeFactory.Conn> primary = ready(fp, "p");
        Pool<FakeFactory.Conn> replica = ready(fr, "r");
        Group<FakeFactory.Conn> g = new Group<FakeFactory.Conn>("orders")) {
      g.add("main", Role.PRIMARY, primary).add("r1", Role.REPLICA, replica);
      try (Lease<FakeFactory.Conn> w = g.acquire(Intent.WRITE, LONG)) {
        assertTrue(fp.open.contains(w.get()), "a write is served by the primary");
      }
      try (Lease<FakeFactory.Conn> r = g.acquire(Intent.READ, LONG)) {
        assertTrue(fr.open.contains(r.get()), "a read is served by the replica");
        assertEquals(1L, replica.stats().connections().inUse());
      }
      assertEquals(0L, replica.stats().connections().inUse());
      GroupStats stats = g.stats();
      assertEquals("orders", stats.name());
      assertEquals(2L, stats.counters().acquired());
      List<GroupStats.Member> m = members(g);
      assertEquals("primary", m.get(0).role());
      assertEquals("replica", m.get(1).role());
      assertEquals("ready", m.get(1).state());
      assertEquals("r", m.get(1).stats().name(), "a member's own document, typed");
    }
    assertEquals(fp.created.get(), fp.destroyed.get());
    assertEquals(fr.created.get(), fr.destroyed.get());
  }

  @Test
  void readsFallBackToThePrimaryAndWritesFailFast() {
    FakeFactory fp = new FakeFactory(), fr = new FakeFactory(), dead = new FakeFactory();
    fr.fatal = true;
    dead.fatal = true;
    try (Pool<FakeFactory.Conn> primary = ready(fp, "p");
        Pool<FakeFactory.Conn> replica = pool(fr, "r");
        Pool<FakeFactory.Conn> deadPrimary = pool(dead, "dead");
        Group<FakeFactory.Conn> g = new Group<>("reads");
        Group<FakeFactory.Conn> w = new Group<>("writes")) {
      assertTrue(Wait.until(LONG, () -> replica.state() == State.UNAVAILABLE));
      assertTrue(Wait.until(LONG, () -> deadPrimary.state() == State.UNAVAILABLE));
      g.add("main", Role.PRIMARY, primary).add("r1", Role.REPLICA, replica);
      try (Lease<FakeFactory.Conn> r = g.acquire(Intent.READ, LONG)) {
        assertTrue(fp.open.contains(r.get()), "the unavailable replica is skipped");
      }
      assertEquals(1L, g.stats().counters().readFallbacks());

      w.add("main", Role.PRIMARY, deadPrimary);
      long t0 = System.nanoTime();
      PoolUnavailableException e = assertThrows(PoolUnavailableException.class, () -> w.acquire(Intent.WRITE, LONG));
      assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "failed fast, not after the timeout");
      assertEquals(503, e.httpStatus());
    }
  }

  @Test
  void badInputIsAConfigExceptionWithTheReason() {
    FakeFactory f = new FakeFactory();
    try (Pool<FakeFactory.Conn> p = pool(f, "p");
        Pool<FakeFactory.Conn> q = pool(f, "q");
        Group<FakeFactory.Conn> g = new Group<>("g");
        Group<FakeFactory.Conn> other = new Group<>("other")) {
      g.add("main", Role.PRIMARY, p);
      PoolConfigException dup = assertThrows(PoolConfigException.class, () -> g.add("main", Role.REPLICA, q));
      assertTrue(dup.getMessage().contains("already used"), dup.getMessage());
      PoolConfigException twice = assertThrows(PoolConfigException.class, () -> other.add("x", Role.REPLICA, p));
      assertTrue(twice.getMessage().contains("already belongs"), twice.getMessage());
      PoolConfigException noShard = assertThrows(PoolConfigException.class, () -> g.acquireKey(1, LONG));
      assertTrue(noShard.getMessage().contains("no shard"), noShard.getMessage());
      assertThrows(PoolConfigException.class, () -> new Group<FakeFactory.Conn>(""));
      g.close();
      assertThrows(PoolClosedException.class, () -> g.acquire(Intent.READ, LONG));
      g.close();  // idempotent
    }
  }

  @Test
  void keysStickToTheirShardAndAClosedShardsKeysFail() {
    FakeFactory[] fs = {new FakeFactory(), new FakeFactory(), new FakeFactory()};
    @SuppressWarnings("unchecked")
    Pool<FakeFactory.Conn>[] shards = new Pool[3];
    try (Group<FakeFactory.Conn> g = new Group<>("users")) {
      for (int i = 0; i < 3; i++) {
        shards[i] = ready(fs[i], "s" + i);
        g.add("shard-" + i, Role.SHARD, shards[i]);
      }
      int[] owner = new int[60];
      for (int k = 0; k < owner.length; k++) {
        try (Lease<FakeFactory.Conn> l = g.acquireKey(k, LONG)) {
          owner[k] = -1;
          for (int i = 0; i < 3; i++) if (fs[i].open.contains(l.get())) owner[k] = i;
          assertTrue(owner[k] >= 0);
        }
        try (Lease<FakeFactory.Conn> again = g.acquireKey(k, LONG)) {
          assertTrue(fs[owner[k]].open.contains(again.get()), "same key, same shard");
        }
      }
      shards[1].close();  // while still in the group: it is detached, its keys fail
      for (int k = 0; k < owner.length; k++) {
        final long key = k;
        if (owner[k] == 1) {
          assertThrows(PoolClosedException.class, () -> g.acquireKey(key, LONG));
        } else {
          g.acquireKey(key, LONG).close();
        }
      }
      assertEquals(false, members(g).get(1).attached());
    } finally {
      for (Pool<FakeFactory.Conn> p : shards) if (p != null) p.close();
    }
    for (FakeFactory f : fs) assertEquals(f.created.get(), f.destroyed.get());
  }
}
