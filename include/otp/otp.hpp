// SPDX-License-Identifier: MIT
#pragma once
// Everything otp offers. Asio integration (use_process, awaitable bridge) is
// in <otp/asio.hpp>, test support in <otp/testing.hpp>.

#include <otp/clock.hpp>
#include <otp/config.hpp>
#include <otp/error.hpp>
#include <otp/exit_reason.hpp>
#include <otp/messages.hpp>
#include <otp/pid.hpp>
#include <otp/process.hpp>
#include <otp/runtime.hpp>
#include <otp/timer.hpp>
