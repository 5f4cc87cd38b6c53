// SPDX-License-Identifier: Apache-2.0
// Process-wide log sink (connpool_set_log_callback). Silent by default. Every message is
// redacted before it reaches the sink.
#ifndef CONNPOOL_CORE_LOG_H
#define CONNPOOL_CORE_LOG_H

#include <string>

namespace connpool {

using LogCallback = void (*)(void* ud, int level, const char* msg);

// Replaces the sink. Waits for calls already inside the old sink to return, so after this
// returns the old `ud` is no longer used. Ignored when called from inside the sink itself.
void SetLogCallback(LogCallback cb, void* ud);
// True when a sink is set: lets callers skip formatting.
bool LogEnabled();
void Log(int level, const std::string& msg);

}  // namespace connpool

#endif
