// SPDX-License-Identifier: Apache-2.0
// SlotTable - a pool's slots, and the only code that reads or writes a slot word (slot.h).
//
// What it owns: chunked storage of up to `max_slots` slots (chunks made on demand, never moved
// or freed before the table, so a Slot& stays valid for the table's life), the indices handed
// out so far (Capacity()), the list of empty indices, and the protocol on the words: claim by
// CAS, give back by CAS, the kWanted and kClosing marks, and scans. It knows nothing of
// connections, waiters or statistics; Pool decides, SlotTable moves words.
//
// Requirements: the *Locked members run under the owner's mutex (Pool::mu_), which guards the
// free list and the publishing of new indices. Everything else is lock-free and may run on any
// thread at any time.
//
// Guarantees:
//   * Every word change is a CAS or is made by the slot's owner (who moved it into kCreating,
//     kLeased, kReturning or kReserved): a store by the owner happens only where no other
//     thread may change the word (kCreating and kEmpty slots, which nobody else marks; owned
//     slots under the mutex, where the flags are fixed as described at each member).
//   * A word that leaves an owned state publishes the owner's plain Slot fields (release, or
//     the acq_rel CAS); a claimer that wins a CAS sees them (acquire).
//   * Every index below Capacity() names a slot whose chunk is published (the chunk store is
//     released before the capacity that covers it), so lock-free scans need no lock.
//   * ClaimIdle starts at the calling thread's last claimed slot of this table (a thread-local
//     hint, ConcurrentBag's thread-local list reduced to one index), else at a per-thread
//     stripe, so threads that cycle on their own slot never share a cache line.
//
// Lifetime caveat: the last touch of a give-back (TryGiveBack, TryIdleFromReturning) is its CAS;
// once it succeeds the slot may be leased again or the whole pool deleted, so the caller must
// not read the table or the slot after a successful give-back.
#ifndef CONNPOOL_CORE_POOL_SLOT_TABLE_H
#define CONNPOOL_CORE_POOL_SLOT_TABLE_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "pool/slot.h"
#include "util/thread_stripe.h"

namespace connpool {

// One reading of a slot word, for scans and decisions: the value, never the atomic.
struct SlotWord {
  uint64_t w = 0;
  uint64_t state() const { return StateOf(w); }
  uint64_t gen() const { return GenOf(w); }
  bool closing() const { return (w & kClosing) != 0; }
  bool flagged() const { return FlagsOf(w) != 0; }
  // Has a connection that nobody is using (idle or held by maintenance/drain for a check).
  bool idle_or_reserved() const { return state() == kIdle || state() == kReserved; }
  // A lease is out (or its releaser is deciding where the connection goes).
  bool in_use() const { return state() == kLeased || state() == kReturning; }
};

class SlotTable {
 public:
  static constexpr uint32_t kChunkSlots = 64;

  explicit SlotTable(uint32_t max_slots);
  // Frees the slots (not the connections in them: that is the owner's business).
  ~SlotTable();
  SlotTable(const SlotTable&) = delete;
  SlotTable& operator=(const SlotTable&) = delete;

  // Indices handed out so far; every index below it is a valid slot (acquire).
  uint32_t Capacity() const { return capacity_.load(std::memory_order_acquire); }
  // The slot's plain fields, for its owner (and the relaxed atomics, for anyone).
  Slot& At(uint32_t idx) const {
    return chunks_[idx / kChunkSlots].load(std::memory_order_acquire)[idx % kChunkSlots];
  }

  // --- reserving indices (under the owner's mutex)
  // An empty index the caller now owns (its word kEmpty), from the free list or a new one.
  // *is_new: a new index (Capacity() grew by one). False when max_slots are all in use.
  bool ReserveLocked(uint32_t* idx, bool* is_new);
  // Owned slot `idx` (no connection any more) becomes kEmpty, keeping kClosing, and its index
  // goes back on the free list. The release store publishes the owner's last writes.
  void FreeLocked(uint32_t idx);

  // --- owner transitions (the caller owns the slot: kEmpty reserved, or an owned state)
  // kEmpty -> kCreating. Nobody marks an empty slot, so a store suffices.
  void BeginCreate(uint32_t idx);
  // Owned (kCreating, kReturning, kReserved) -> kLeased with the next generation, flags
  // cleared: a hand-off or a create for the caller. Under the owner's mutex, which every
  // marker of an owned slot that matters here also holds (drain marks kClosing under it and
  // waiters mark only kLeased/kReturning slots, never a slot owned by the mutex holder).
  // Returns the new generation (the lease's).
  uint64_t LeaseOwnedLocked(uint32_t idx);
  // Owned -> kIdle, flags cleared (under the owner's mutex, as above). seq_cst: the store is
  // ordered with the waiters' count and scans like the CAS of a give-back (pool_acquire.cpp).
  void MakeIdleOwnedLocked(uint32_t idx);
  // True once drain marked the slot: nothing may be lent from it any more.
  bool IsClosing(uint32_t idx) const { return IsClosing(At(idx)); }
  static bool IsClosing(const Slot& s) { return (s.word.load(std::memory_order_acquire) & kClosing) != 0; }
  // The slot's current word (generation, flags, state), for owners deciding and for tests.
  SlotWord Read(uint32_t idx) const { return SlotWord{At(idx).word.load(std::memory_order_acquire)}; }

  // --- claims
  // The acquire fast path's claim: the slot this thread claimed last in this table (its hint),
  // if that is idle and unmarked: kIdle -> kLeased, generation + 1 (the CAS is the lease).
  // *slot is the slot (the caller would look it up again otherwise). The hint stays as it is.
  // Inline, as the give-back below: it is half of the uncontended cycle, and a call into
  // another object file costs that cycle a tenth.
  bool ClaimHinted(uint32_t* idx, uint64_t* gen, Slot** slot) {
    const Hint hint = t_hint;
    // A hint names an index below the capacity of the table it was set on; the check matters
    // for another table at the address of a deleted one.
    if (hint.table != this || hint.idx >= capacity_.load(std::memory_order_acquire)) return false;
    Slot& s = At(hint.idx);
    uint64_t w = s.word.load(std::memory_order_relaxed);
    const uint64_t next = GenOf(w) + 1;
    if ((w & (kStateMask | kFlagMask)) != kIdle ||
        !s.word.compare_exchange_strong(w, MakeWord(next, 0, kLeased), std::memory_order_seq_cst))
      return false;
    *idx = hint.idx;
    *gen = next;
    *slot = &s;
    return true;
  }
  // Claims an idle unmarked slot: kIdle -> kLeased, generation + 1 (the CAS is the lease).
  // `mark_wanted`: a queued waiter's scan; it also marks every unmarked kLeased/kReturning
  // slot kWanted, so that its give-back CAS fails and the releaser hands off (seq_cst, see
  // pool_acquire.cpp). Without it, the hinted slot is tried first (ClaimHinted). On success
  // sets this thread's hint to the slot.
  bool ClaimIdle(bool mark_wanted, uint32_t* idx, uint64_t* gen) {
    Slot* s;
    if (!mark_wanted && ClaimHinted(idx, gen, &s)) return true;
    const uint32_t cap = capacity_.load(std::memory_order_acquire);
    if (cap == 0) return false;
    const Hint hint = t_hint;
    return ClaimScan(mark_wanted, hint.table == this && hint.idx < cap ? hint.idx : StripeStart(cap), cap, idx, gen);
  }
  // Takes an idle unmarked slot for maintenance or a shrink: kIdle -> kReserved (same
  // generation: no lease). False if it is not idle or someone else won it.
  bool ReserveIdle(uint32_t idx);
  // This thread's next claim starts at `idx` (a slot handed to it by a releaser).
  void SetHint(uint32_t idx) {
    t_hint.table = this;
    t_hint.idx = idx;
  }

  // --- give-back of a lease (idx < Capacity() checked by the caller; `s` is At(idx))
  // True when slot `s` is kLeased with the lease's generation (`lease_gen`, kLeaseGenBits of
  // it); *w is the word seen, to pass to TryGiveBack.
  static bool HoldsLease(const Slot& s, uint64_t lease_gen, SlotWord* w) {
    w->w = s.word.load(std::memory_order_acquire);
    return w->state() == kLeased && (w->gen() & kLeaseGenMask) == lease_gen;
  }
  bool HoldsLease(uint32_t idx, uint64_t lease_gen, SlotWord* w) const { return HoldsLease(At(idx), lease_gen, w); }
  // The one-CAS give-back: kLeased (exactly `w`, no flags) -> kIdle. Fails if a waiter or
  // drain marked the slot meanwhile, or a racing release of the same lease won. seq_cst: the
  // proof in pool_acquire.cpp orders it against the waiters' count.
  static bool TryGiveBack(Slot& s, SlotWord seen) {
    uint64_t w = seen.w;
    if (FlagsOf(w) != 0 || StateOf(w) != kLeased) return false;
    return s.word.compare_exchange_strong(w, MakeWord(GenOf(w), 0, kIdle), std::memory_order_seq_cst);
  }
  bool TryGiveBack(uint32_t idx, SlotWord seen) { return TryGiveBack(At(idx), seen); }
  // Takes the slot back from its lease: kLeased (lease_gen) -> kReturning, keeping flags; the
  // caller owns the slot then. False: the lease is stale (*w is what was seen).
  bool TakeBack(uint32_t idx, uint64_t lease_gen, SlotWord* w);
  // kReturning (generation `gen`, no flags) -> kIdle. Fails if a waiter (kWanted) or drain
  // (kClosing) marked it since TakeBack: then the caller still owns it and goes the slow way.
  bool TryIdleFromReturning(uint32_t idx, uint64_t gen);

  // --- drain (under the owner's mutex)
  // Marks every slot kClosing (so that no lock-free claim or give-back completes on it from
  // now on) and reserves the idle ones (kIdle -> kReserved), appending their indices to *idle.
  void MarkAllClosingLocked(std::vector<uint32_t>* idle);

  // --- scans: one pass over the words, each read once (acquire)
  struct Counts {
    uint64_t empty = 0, creating = 0, idle = 0, leased = 0, returning = 0, reserved = 0;
    uint64_t generations = 0;  // sum of every slot's generation (each lease bumps one)
    uint64_t in_use() const { return leased + returning; }
    uint64_t idle_or_reserved() const { return idle + reserved; }
  };
  Counts Count() const;
  // f(uint32_t idx, SlotWord w, Slot& s) for every index below Capacity().
  template <typename F>
  void ForEach(F&& f) const {
    const uint32_t cap = Capacity();
    for (uint32_t i = 0; i < cap; ++i) {
      Slot& s = At(i);
      f(i, SlotWord{s.word.load(std::memory_order_acquire)}, s);
    }
  }

 private:
  // Last slot this thread claimed, in which table: the next claim tries it first. One per
  // thread, not per table: a thread cycling on one pool is the case worth making fast.
  struct Hint {
    const SlotTable* table;
    uint32_t idx;
  };
  CONNPOOL_TLS_HOT static inline thread_local Hint t_hint{nullptr, 0};

  // ClaimIdle's loop, from slot `start` round the `cap` slots.
  bool ClaimScan(bool mark_wanted, uint32_t start, uint32_t cap, uint32_t* idx, uint64_t* gen);
  // The first slot to try for a thread without a hint: its stripe (util/thread_stripe.h).
  static uint32_t StripeStart(uint32_t cap);

  const uint32_t max_slots_;
  const uint32_t max_chunks_;
  std::unique_ptr<std::atomic<Slot*>[]> chunks_;  // max_chunks_ entries, filled on demand
  // Apart from the slots' lines and from the owner's hot fields: it is read by every claim.
  alignas(64) std::atomic<uint32_t> capacity_{0};
  std::vector<uint32_t> free_list_;  // guarded by the owner's mutex: empty indices
};

}  // namespace connpool

#endif
