// SPDX-License-Identifier: MIT
#pragma once
// Everything otp offers but test support (<otp/testing.hpp>). Asio operations
// inside processes (use_process, the awaitable bridge) are in <otp/asio.hpp>,
// included here too.

#include <otp/agent.hpp>
#include <otp/asio.hpp>
#include <otp/async.hpp>
#include <otp/clock.hpp>
#include <otp/config.hpp>
#include <otp/dynamic_supervisor.hpp>
#include <otp/error.hpp>
#include <otp/exit_reason.hpp>
#include <otp/handle.hpp>
#include <otp/inspect.hpp>
#include <otp/messages.hpp>
#include <otp/name.hpp>
#include <otp/offload.hpp>
#include <otp/outside.hpp>
#include <otp/node.hpp>
#include <otp/pid.hpp>
#include <otp/process.hpp>
#include <otp/registry.hpp>
#include <otp/request.hpp>
#include <otp/runtime.hpp>
#include <otp/server.hpp>
#include <otp/start.hpp>
#include <otp/supervisor.hpp>
#include <otp/task.hpp>
#include <otp/timer.hpp>
