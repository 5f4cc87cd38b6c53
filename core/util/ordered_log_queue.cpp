// SPDX-License-Identifier: Apache-2.0
// OrderedLogQueue: see ordered_log_queue.h for the protocol.
#include "util/ordered_log_queue.h"

#include "util/log.h"

namespace connpool {

namespace {
void ProcessSink(void*, int level, const std::string& msg) { Log(level, msg); }
}  // namespace

OrderedLogQueue::OrderedLogQueue() : OrderedLogQueue(&ProcessSink, nullptr) {}

OrderedLogQueue::OrderedLogQueue(Sink sink, void* ctx) : sink_(sink), ctx_(ctx) {}

void OrderedLogQueue::AddLocked(int level, std::string msg) { pending_.emplace_back(level, std::move(msg)); }

OrderedLogQueue::Batch OrderedLogQueue::TakeLocked() {
  Batch batch;
  if (pending_.empty()) return batch;
  batch.ticket = ++issued_;
  batch.items.swap(pending_);
  return batch;
}

void OrderedLogQueue::FlushLocked(std::unique_lock<std::mutex>& lk) {
  if (pending_.empty()) return;
  Batch batch = TakeLocked();
  lk.unlock();
  Deliver(std::move(batch));
  lk.lock();
}

void OrderedLogQueue::Deliver(Batch batch) {
  if (batch.ticket == 0) return;
  std::unique_lock<std::mutex> lk(order_mu_);
  order_cv_.wait(lk, [&] { return served_ + 1 == batch.ticket; });
  // The sink runs with no lock held; later batches wait on served_, which only this thread
  // moves now (it holds the next ticket).
  lk.unlock();
  for (auto& [level, msg] : batch.items) sink_(ctx_, level, msg);
  lk.lock();
  ++served_;
  order_cv_.notify_all();
}

void OrderedLogQueue::AwaitDelivered(uint64_t issued) {
  std::unique_lock<std::mutex> lk(order_mu_);
  order_cv_.wait(lk, [&] { return served_ >= issued; });
}

}  // namespace connpool
