# SPDX-License-Identifier: MIT
#
# The BEAM peer for the OTP-behaviour workloads W5, W6, W7, W9 and the
# micro-operations of benchmarks/peers/README.md, written from the
# definitions there with Elixir's own GenServer, Registry, Supervisor and
# DynamicSupervisor.
#
#   elixir --erl "+S T +P 4000000" bench.exs W      (W = w5|w6|w7|w9|micro)
#
# W5_N, W7_N, W9_N and W9_CYCLES in the environment change those counts.
# Each run prints `RESULT <metric> <value> <unit>` lines; only the workload
# is timed (System.monotonic_time/1), not the start of the VM or the set-up.
# A wrong result or an unknown workload is reported on stderr with exit
# status 1. Processes left over at the end of a workload are not torn down
# (halting the VM ends them), except in `micro`, whose operations run one
# after the other and must not see the previous one's processes.
#
# All the hot loops live in compiled modules; only the last line of this
# file is evaluated as a script.

defmodule Bench do
  @moduledoc false

  def main([w]) do
    case w do
      "w5" -> Bench.W5.run()
      "w6" -> Bench.W6.run()
      "w7" -> Bench.W7.run()
      "w9" -> Bench.W9.run()
      "micro" -> Bench.Micro.run()
      other -> fail("unknown workload #{other}")
    end
  end

  def main(args), do: fail("usage: bench.exs w5|w6|w7|w9|micro (got #{inspect(args)})")

  def now_ns, do: System.monotonic_time(:nanosecond)

  def env_int(name, default) do
    case System.get_env(name) do
      nil -> default
      value -> String.to_integer(value)
    end
  end

  # One `RESULT <metric> <value> <unit>` line; an empty unit leaves a
  # trailing space, as the other peers print it.
  def report(metric, value, unit) do
    IO.puts("RESULT #{metric} #{:erlang.float_to_binary(value / 1, decimals: 1)} #{unit}")
  end

  def fail(message) do
    IO.puts(:stderr, "bench.exs: " <> message)
    System.halt(1)
  end

  # Crash reports (proc_lib's), supervisor reports and the GenServer
  # "terminating" error all go through :logger; at level :none (Logger sets
  # :logger's primary level too) they are dropped before anything is
  # formatted.
  def crash_logging_off, do: Logger.configure(level: :none)

  # Waits until the VM runs `count` processes again, yielding between polls.
  def await_process_count(count) do
    if :erlang.system_info(:process_count) > count do
      :erlang.yield()
      await_process_count(count)
    else
      :ok
    end
  end

  # The keys "worker:0" ... "worker:<n-1>", in a tuple for indexing.
  def worker_keys(n), do: List.to_tuple(for i <- 0..(n - 1)//1, do: "worker:#{i}")

  # Spawns one process per key that registers it in `registry` and then
  # waits to be told to stop; returns once every key is registered.
  def spawn_key_holders(registry, keys) do
    bench = self()

    pids =
      for key <- Tuple.to_list(keys) do
        spawn(fn ->
          case Registry.register(registry, key, nil) do
            {:ok, _owner} -> send(bench, {:registered, self()})
            {:error, reason} -> send(bench, {:register_failed, key, reason})
          end

          receive do
            :stop -> :ok
          end
        end)
      end

    await_registered(tuple_size(keys))
    pids
  end

  defp await_registered(0), do: :ok

  defp await_registered(k) do
    receive do
      {:registered, _pid} -> await_registered(k - 1)
      {:register_failed, key, reason} -> fail("could not register #{key}: #{inspect(reason)}")
    end
  end

  # `count` lookups of keys drawn with the Park-Miller generator
  # (x = x * 48271 rem 2147483647, key index x rem n); returns the misses.
  def lookups(registry, keys, seed, count) do
    lookups(registry, keys, tuple_size(keys), seed, count, 0)
  end

  defp lookups(_registry, _keys, _n, _x, 0, misses), do: misses

  defp lookups(registry, keys, n, x, count, misses) do
    x = rem(x * 48271, 2_147_483_647)

    case Registry.lookup(registry, elem(keys, rem(x, n))) do
      [{_pid, _value}] -> lookups(registry, keys, n, x, count - 1, misses)
      [] -> lookups(registry, keys, n, x, count - 1, misses + 1)
    end
  end

  # A Registry with unique keys and one partition per scheduler.
  def start_registry(name) do
    Registry.start_link(keys: :unique, name: name, partitions: System.schedulers_online())
  end
end

# The server of W5 and m_call_ns: answers x with x + 1.
defmodule Bench.Increment do
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil)

  @impl true
  def init(nil), do: {:ok, nil}

  @impl true
  def handle_call(x, _from, state), do: {:reply, x + 1, state}

  # `count` calls in a row; fails on a wrong answer.
  def calls(_server, 0), do: :ok

  def calls(server, count) do
    case GenServer.call(server, count) do
      answer when answer == count + 1 -> calls(server, count - 1)
      answer -> Bench.fail("call #{count} answered #{inspect(answer)}")
    end
  end
end

# ---- W5 call: 1,000,000 GenServer.call round trips (W5_N).
defmodule Bench.W5 do
  import Bench

  def run do
    n = env_int("W5_N", 1_000_000)
    {:ok, server} = Bench.Increment.start_link(nil)
    t0 = now_ns()
    Bench.Increment.calls(server, n)
    report("w5_ns_per_call", (now_ns() - t0) / n, "ns")
  end
end

# ---- W6 registry: 100,000 processes each register "worker:<i>" (timed
# with their spawn); 10,000,000 lookups of pseudo-random existing keys over
# 2 workers; 1,000,000 register+unregister pairs over 2 workers, each
# reusing one key of its own.
defmodule Bench.W6 do
  import Bench

  @registry Bench.W6.Registry
  @holders 100_000
  @lookups 10_000_000
  @pairs 1_000_000
  @workers 2

  def run do
    {:ok, _registry} = start_registry(@registry)
    keys = worker_keys(@holders)

    t0 = now_ns()
    spawn_key_holders(@registry, keys)
    report("w6_register_ns_each", (now_ns() - t0) / @holders, "ns")

    t0 = now_ns()

    misses =
      on_workers(fn w -> lookups(@registry, keys, 7919 * w, div(@lookups, @workers)) end)
      |> Enum.sum()

    elapsed = now_ns() - t0
    if misses != 0, do: fail("w6: #{misses} lookups of registered keys found nothing")
    report("w6_lookups_per_s", @lookups / (elapsed / 1.0e9), "lookup/s")

    t0 = now_ns()
    on_workers(fn w -> churn("churn:#{w}", div(@pairs, @workers)) end)
    report("w6_churn_per_s", @pairs / ((now_ns() - t0) / 1.0e9), "pair/s")
  end

  # Runs fun.(w) for the workers w = 1, 2, each in a task; returns the results.
  defp on_workers(fun) do
    1..@workers
    |> Enum.map(fn w -> Task.async(fn -> fun.(w) end) end)
    |> Task.await_many(:infinity)
  end

  defp churn(_key, 0), do: :ok

  defp churn(key, k) do
    {:ok, _owner} = Registry.register(@registry, key, nil)
    :ok = Registry.unregister(@registry, key)
    churn(key, k - 1)
  end
end

# ---- W7 restart: a one_for_one supervisor with one named GenServer;
# W7_N times (default 10,000) crash it with a cast whose handler raises,
# then call it by name until the restarted server answers.
defmodule Bench.W7.Worker do
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil, name: __MODULE__)

  @impl true
  def init(nil), do: {:ok, nil}

  @impl true
  def handle_call(:ping, _from, state), do: {:reply, :pong, state}

  @impl true
  def handle_cast(:crash, _state), do: raise("w7: crash on request")
end

defmodule Bench.W7 do
  import Bench
  alias Bench.W7.Worker

  def run do
    crash_logging_off()
    n = env_int("W7_N", 10_000)

    # max_restarts is far above the 10,000 crashes, so the supervisor never
    # reaches its restart intensity.
    {:ok, _sup} =
      Supervisor.start_link([Worker],
        strategy: :one_for_one,
        max_restarts: 1_000_000,
        max_seconds: 1
      )

    :pong = GenServer.call(Worker, :ping)

    t0 = now_ns()
    {first_1k, failed} = cycles(0, n, t0, nil, 0)
    elapsed = now_ns() - t0

    report("w7_us_per_cycle", elapsed / n / 1000, "us")
    report("w7_first1k_us_per_cycle", (first_1k || elapsed) / min(n, 1000) / 1000, "us")
    report("w7_retries_per_cycle", failed / n, "")
  end

  defp cycles(n, n, _t0, first_1k, failed), do: {first_1k, failed}

  defp cycles(k, n, t0, first_1k, failed) do
    first_1k = if k == 1000, do: now_ns() - t0, else: first_1k
    GenServer.cast(Worker, :crash)
    cycles(k + 1, n, t0, first_1k, call_until_answered(failed))
  end

  # A call made after the crash cast reaches either the dying server (and
  # exits with its crash reason) or no server at all (noproc). Any other
  # exit is not part of the workload and is left to stop the bench. After
  # a failed call the bench yields, so that on one scheduler the supervisor
  # and the new server get to run instead of waiting for the bench's time
  # slice to run out.
  defp call_until_answered(failed) do
    case ping() do
      :pong ->
        failed

      :failed ->
        :erlang.yield()
        call_until_answered(failed + 1)
    end
  end

  defp ping do
    GenServer.call(Worker, :ping)
  catch
    :exit, {:noproc, {GenServer, :call, _}} -> :failed
    :exit, {{%RuntimeError{}, _stack}, {GenServer, :call, _}} -> :failed
  end
end

# ---- W9 supervise: (a) a DynamicSupervisor starts W9_N children one by one
# (default 100,000), then is stopped; (b) unless W9_CYCLES=0, a one_for_one
# Supervisor's child, whose init notifies the bench, is crashed W9_CYCLES
# times (default 10,000), each time waiting for the restarted child's notice.
defmodule Bench.W9.Idle do
  use GenServer

  def start_link(_), do: GenServer.start_link(__MODULE__, nil)

  @impl true
  def init(nil), do: {:ok, nil}
end

defmodule Bench.W9.Notifier do
  use GenServer

  def start_link(bench), do: GenServer.start_link(__MODULE__, bench)

  @impl true
  def init(bench) do
    send(bench, {:w9_up, self()})
    {:ok, bench}
  end

  @impl true
  def handle_info(:crash, _bench), do: raise("w9: crash on request")
end

defmodule Bench.W9 do
  import Bench

  def run do
    crash_logging_off()
    n = env_int("W9_N", 100_000)
    restarts = env_int("W9_CYCLES", 10_000)

    {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    spec = Bench.W9.Idle.child_spec(nil)
    t0 = now_ns()
    start_children(sup, spec, n)
    report("w9_start_ns_per_child_n#{n}", (now_ns() - t0) / n, "ns")

    t0 = now_ns()
    :ok = DynamicSupervisor.stop(sup)
    report("w9_shutdown_ns_per_child_n#{n}", (now_ns() - t0) / n, "ns")

    if restarts > 0, do: restart_cycles(restarts)
  end

  defp start_children(_sup, _spec, 0), do: :ok

  defp start_children(sup, spec, k) do
    {:ok, _child} = DynamicSupervisor.start_child(sup, spec)
    start_children(sup, spec, k - 1)
  end

  defp restart_cycles(count) do
    {:ok, sup} =
      Supervisor.start_link([{Bench.W9.Notifier, self()}],
        strategy: :one_for_one,
        max_restarts: 1_000_000,
        max_seconds: 1
      )

    child = await_up()
    t0 = now_ns()
    crash(child, count)
    report("w9_restart_us_per_cycle", (now_ns() - t0) / count / 1000, "us")
    Supervisor.stop(sup)
  end

  defp crash(_child, 0), do: :ok

  defp crash(child, k) do
    send(child, :crash)
    crash(await_up(), k - 1)
  end

  defp await_up do
    receive do
      {:w9_up, child} -> child
    end
  end
end

# ---- micro: what one operation costs, each timed around its loop only.
defmodule Bench.Micro do
  import Bench

  @messages 1_000_000
  @processes 100_000
  @registered 1_000
  @lookups 1_000_000
  @calls 100_000

  def run do
    send_and_receive()
    spawn_until_ended()
    link_to_idle()
    monitor_idle()
    lookup_registered()
    call_idle_server()
  end

  # m_send_ns, m_receive_ns: 1,000,000 small integers into the bench's own
  # mailbox, then out again one at a time.
  defp send_and_receive do
    t0 = now_ns()
    send_to(self(), @messages)
    report("m_send_ns", (now_ns() - t0) / @messages, "ns")

    t0 = now_ns()
    receive_n(@messages)
    report("m_receive_ns", (now_ns() - t0) / @messages, "ns")
  end

  # m_spawn_ns: 100,000 processes whose body returns at once, timed until
  # the process count is back where it was.
  defp spawn_until_ended do
    before = :erlang.system_info(:process_count)
    t0 = now_ns()
    spawn_n(@processes)
    await_process_count(before)
    report("m_spawn_ns", (now_ns() - t0) / @processes, "ns")
  end

  # m_link_ns: link to each of 100,000 idle processes.
  defp link_to_idle do
    before = :erlang.system_info(:process_count)
    idle = spawn_idle(@processes)
    t0 = now_ns()
    link_all(idle)
    report("m_link_ns", (now_ns() - t0) / @processes, "ns")
    Enum.each(idle, &Process.unlink/1)
    kill_all(idle, before)
  end

  # m_monitor_ns: monitor each of 100,000 idle processes.
  defp monitor_idle do
    before = :erlang.system_info(:process_count)
    idle = spawn_idle(@processes)
    t0 = now_ns()
    monitor_all(idle)
    report("m_monitor_ns", (now_ns() - t0) / @processes, "ns")
    kill_all(idle, before)
    flush_downs(@processes)
  end

  # m_lookup_ns: 1,000,000 lookups of the 1,000 keys "worker:<i>", each
  # registered by a process of its own (W6's generator, seed 7919).
  defp lookup_registered do
    {:ok, registry} = start_registry(Bench.Micro.Registry)
    before = :erlang.system_info(:process_count)
    keys = worker_keys(@registered)
    holders = spawn_key_holders(Bench.Micro.Registry, keys)
    t0 = now_ns()
    misses = lookups(Bench.Micro.Registry, keys, 7919, @lookups)
    elapsed = now_ns() - t0
    if misses != 0, do: fail("micro: #{misses} lookups of registered keys found nothing")
    report("m_lookup_ns", elapsed / @lookups, "ns")
    kill_all(holders, before)
    # Stopping the registry also ends its clean-up after the holders, so
    # that it does not run during the next measurement.
    :ok = Supervisor.stop(registry)
  end

  # m_call_ns: 100,000 GenServer.call round trips to an idle server.
  defp call_idle_server do
    {:ok, server} = Bench.Increment.start_link(nil)
    t0 = now_ns()
    Bench.Increment.calls(server, @calls)
    report("m_call_ns", (now_ns() - t0) / @calls, "ns")
    :ok = GenServer.stop(server)
  end

  defp send_to(_pid, 0), do: :ok

  defp send_to(pid, k) do
    send(pid, k)
    send_to(pid, k - 1)
  end

  defp receive_n(0), do: :ok

  defp receive_n(k) do
    receive do
      i when is_integer(i) -> receive_n(k - 1)
    end
  end

  defp spawn_n(0), do: :ok

  defp spawn_n(k) do
    spawn(fn -> :ok end)
    spawn_n(k - 1)
  end

  defp spawn_idle(count), do: for(_ <- 1..count, do: spawn(Process, :sleep, [:infinity]))

  defp link_all([]), do: :ok

  defp link_all([pid | rest]) do
    Process.link(pid)
    link_all(rest)
  end

  defp monitor_all([]), do: :ok

  defp monitor_all([pid | rest]) do
    Process.monitor(pid)
    monitor_all(rest)
  end

  defp kill_all(pids, count) do
    Enum.each(pids, &Process.exit(&1, :kill))
    await_process_count(count)
  end

  defp flush_downs(0), do: :ok

  defp flush_downs(k) do
    receive do
      {:DOWN, _ref, :process, _pid, _reason} -> flush_downs(k - 1)
    end
  end
end

Bench.main(System.argv())
