// SPDX-License-Identifier: Apache-2.0
// SlotTable: storage, index reservation and the CAS protocol on slot words (slot_table.h).
#include "pool/slot_table.h"

#include "util/thread_stripe.h"

namespace connpool {

SlotTable::SlotTable(uint32_t max_slots)
    : max_slots_(max_slots),
      max_chunks_((max_slots + kChunkSlots - 1) / kChunkSlots),
      chunks_(new std::atomic<Slot*>[max_chunks_]) {
  for (uint32_t i = 0; i < max_chunks_; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

SlotTable::~SlotTable() {
  for (uint32_t c = 0; c < max_chunks_; ++c) delete[] chunks_[c].load(std::memory_order_relaxed);
}

bool SlotTable::ReserveLocked(uint32_t* idx, bool* is_new) {
  if (!free_list_.empty()) {
    *idx = free_list_.back();
    free_list_.pop_back();
    *is_new = false;
    return true;
  }
  const uint32_t next = capacity_.load(std::memory_order_relaxed);
  if (next >= max_slots_) return false;
  std::atomic<Slot*>& chunk = chunks_[next / kChunkSlots];
  if (chunk.load(std::memory_order_relaxed) == nullptr) chunk.store(new Slot[kChunkSlots], std::memory_order_release);
  // Publishing the index after the chunk lets lock-free scanners trust every index < capacity_.
  capacity_.store(next + 1, std::memory_order_release);
  *idx = next;
  *is_new = true;
  return true;
}

void SlotTable::FreeLocked(uint32_t idx) {
  std::atomic<uint64_t>& word = At(idx).word;
  const uint64_t w = word.load(std::memory_order_relaxed);
  // Only drain marks an owned slot, under the same mutex: the flags read are still current.
  word.store(MakeWord(GenOf(w), FlagsOf(w) & kClosing, kEmpty), std::memory_order_release);
  free_list_.push_back(idx);
}

void SlotTable::BeginCreate(uint32_t idx) {
  std::atomic<uint64_t>& word = At(idx).word;
  const uint64_t w = word.load(std::memory_order_relaxed);
  word.store(MakeWord(GenOf(w), 0, kCreating), std::memory_order_release);
}

uint64_t SlotTable::LeaseOwnedLocked(uint32_t idx) {
  std::atomic<uint64_t>& word = At(idx).word;
  const uint64_t gen = GenOf(word.load(std::memory_order_relaxed)) + 1;
  word.store(MakeWord(gen, 0, kLeased), std::memory_order_release);
  return gen;
}

void SlotTable::MakeIdleOwnedLocked(uint32_t idx) {
  std::atomic<uint64_t>& word = At(idx).word;
  const uint64_t w = word.load(std::memory_order_relaxed);
  word.store(MakeWord(GenOf(w), 0, kIdle), std::memory_order_seq_cst);
}

bool SlotTable::ClaimScan(bool mark_wanted, uint32_t start, uint32_t cap, uint32_t* idx_out, uint64_t* gen_out) {
  for (uint32_t i = 0; i < cap; ++i) {
    const uint32_t idx = start + i < cap ? start + i : start + i - cap;
    std::atomic<uint64_t>& word = At(idx).word;
    // A waiter's scan reads seq_cst: the proof in pool_acquire.cpp orders these reads after
    // its increment of the waiters' count. The fast path's read only picks a candidate; the
    // CAS decides.
    uint64_t w = word.load(mark_wanted ? std::memory_order_seq_cst : std::memory_order_relaxed);
    if ((w & (kStateMask | kFlagMask)) == kIdle) {
      const uint64_t gen = GenOf(w) + 1;
      if (word.compare_exchange_strong(w, MakeWord(gen, 0, kLeased), std::memory_order_seq_cst)) {
        t_hint.table = this;
        t_hint.idx = idx;
        *idx_out = idx;
        *gen_out = gen;
        return true;
      }
    } else if (mark_wanted && (StateOf(w) == kReturning || StateOf(w) == kLeased) && !(w & kWanted)) {
      word.compare_exchange_strong(w, w | kWanted, std::memory_order_seq_cst);
    }
  }
  return false;
}

uint32_t SlotTable::StripeStart(uint32_t cap) { return ThreadStripe() % cap; }

bool SlotTable::ReserveIdle(uint32_t idx) {
  std::atomic<uint64_t>& word = At(idx).word;
  uint64_t w = word.load(std::memory_order_acquire);
  if ((w & (kStateMask | kFlagMask)) != kIdle) return false;
  return word.compare_exchange_strong(w, MakeWord(GenOf(w), 0, kReserved), std::memory_order_seq_cst);
}

bool SlotTable::TakeBack(uint32_t idx, uint64_t lease_gen, SlotWord* out) {
  std::atomic<uint64_t>& word = At(idx).word;
  uint64_t w = word.load(std::memory_order_acquire);
  for (;;) {
    if (StateOf(w) != kLeased || (GenOf(w) & kLeaseGenMask) != lease_gen) {
      out->w = w;
      return false;
    }
    if (word.compare_exchange_weak(w, (w & ~kStateMask) | kReturning, std::memory_order_seq_cst)) {
      out->w = (w & ~kStateMask) | kReturning;
      return true;
    }
  }
}

bool SlotTable::TryIdleFromReturning(uint32_t idx, uint64_t gen) {
  uint64_t expected = MakeWord(gen, 0, kReturning);
  return At(idx).word.compare_exchange_strong(expected, MakeWord(gen, 0, kIdle), std::memory_order_seq_cst);
}

void SlotTable::MarkAllClosingLocked(std::vector<uint32_t>* idle) {
  const uint32_t cap = capacity_.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < cap; ++i) {
    std::atomic<uint64_t>& word = At(i).word;
    uint64_t w = word.fetch_or(kClosing, std::memory_order_seq_cst) | kClosing;
    if (StateOf(w) == kIdle && word.compare_exchange_strong(w, MakeWord(GenOf(w), kClosing, kReserved)))
      idle->push_back(i);
  }
}

SlotTable::Counts SlotTable::Count() const {
  Counts c;
  ForEach([&c](uint32_t, SlotWord w, const Slot&) {
    c.generations += w.gen();
    switch (w.state()) {
      case kEmpty: ++c.empty; break;
      case kCreating: ++c.creating; break;
      case kIdle: ++c.idle; break;
      case kLeased: ++c.leased; break;
      case kReturning: ++c.returning; break;
      case kReserved: ++c.reserved; break;
      default: break;
    }
  });
  return c;
}

}  // namespace connpool
