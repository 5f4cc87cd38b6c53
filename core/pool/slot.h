// SPDX-License-Identifier: Apache-2.0
// A slot holds at most one connection and is the unit of leasing.
//
// Each slot's state lives in one 64-bit word, changed by compare-and-swap (or by a store of the
// slot's owner where nobody else may change the word, see slot_table.h):
//     bits 16..63  generation: bumped every time the slot is leased
//     bits  8..15  flags (kWanted, kClosing)
//     bits  0..7   state (kEmpty ... kReserved)
// A lease names (pool tag, slot index, generation), so releasing checks the whole lease with
// one CAS on the word: a doubled, forged or foreign lease cannot match.
//
// Ownership: whoever moved the word into kCreating, kLeased, kReturning or kReserved owns the
// plain fields below until it moves the word on; the CAS (acq_rel) publishes them. Fields that
// stats read at any time are atomics (relaxed).
//
// The word itself is private: only SlotTable (slot_table.h) reads or changes it, so the
// protocol has one home.
#ifndef CONNPOOL_CORE_SLOT_H
#define CONNPOOL_CORE_SLOT_H

#include <atomic>
#include <cstdint>

namespace connpool {

enum SlotState : uint64_t {
  kEmpty = 0,      // no connection; index is on the pool's free list
  kCreating = 1,   // reserved for a create in flight
  kIdle = 2,       // connection available
  kLeased = 3,     // connection lent out (or being checked by the acquirer before lending)
  kReturning = 4,  // lease given back; its releaser is deciding where the connection goes
  kReserved = 5,   // idle connection taken by maintenance or drain for a check or retirement
};

// A waiter saw this slot kReturning and wants it: its releaser must take the slow path.
constexpr uint64_t kWanted = 0x100;
// The pool is draining: no fast path may complete on this slot any more.
constexpr uint64_t kClosing = 0x200;
constexpr uint64_t kStateMask = 0xFF;
constexpr uint64_t kFlagMask = 0xFF00;
constexpr int kGenShift = 16;

inline uint64_t StateOf(uint64_t w) { return w & kStateMask; }
inline uint64_t FlagsOf(uint64_t w) { return w & kFlagMask; }
inline uint64_t GenOf(uint64_t w) { return w >> kGenShift; }
inline uint64_t MakeWord(uint64_t gen, uint64_t flags, uint64_t state) {
  return (gen << kGenShift) | flags | state;
}

// Lease layout: tag (14 bits, never 0, so no lease is 0) | index (17 bits) | generation (33 bits).
// 33 bits of generation wrap only after 8.6e9 leases of one slot, so a stale lease matching by
// accident needs that many reuses while it is held.
constexpr int kLeaseGenBits = 33;
constexpr int kLeaseIndexBits = 17;
constexpr int kLeaseTagBits = 14;
constexpr uint64_t kLeaseGenMask = (uint64_t{1} << kLeaseGenBits) - 1;
constexpr uint64_t kLeaseIndexMask = (uint64_t{1} << kLeaseIndexBits) - 1;
constexpr uint64_t kLeaseTagMask = (uint64_t{1} << kLeaseTagBits) - 1;

inline uint64_t MakeLease(uint64_t tag, uint64_t index, uint64_t gen) {
  return (tag << (kLeaseIndexBits + kLeaseGenBits)) | (index << kLeaseGenBits) | (gen & kLeaseGenMask);
}
inline uint64_t LeaseTag(uint64_t lease) { return lease >> (kLeaseIndexBits + kLeaseGenBits); }
inline uint64_t LeaseIndex(uint64_t lease) { return (lease >> kLeaseGenBits) & kLeaseIndexMask; }
inline uint64_t LeaseGen(uint64_t lease) { return lease & kLeaseGenMask; }

// One cache line per slot, so threads working on different slots never share a line.
class SlotTable;
struct alignas(64) Slot {
  void* conn = nullptr;                  // owned as described above
  int64_t expires_ns = 0;                // lifetime end with jitter; 0 = never
  int64_t checked_ns = 0;                // last validation or use (keepalive)
  std::atomic<int64_t> last_used_ns{0};  // when it last became idle or was created
  std::atomic<int64_t> lease_start_ns{0};
  std::atomic<uint64_t> holder_thread{0};
  std::atomic<int32_t> holder_priority{0};
  uint32_t uses = 0;

 private:
  friend class SlotTable;
  std::atomic<uint64_t> word{0};
};
static_assert(sizeof(Slot) == 64, "one cache line per slot");

}  // namespace connpool

#endif
