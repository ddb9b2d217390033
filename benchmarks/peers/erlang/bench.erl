%% SPDX-License-Identifier: MIT
%%
%% The BEAM peer for the process workloads W1, W2, W3, W4, W8 and W10 of
%% benchmarks/peers/README.md, written from the definitions there.
%%
%%   erlc -o OUT bench.erl
%%   erl +S T +P 4000000 -noshell -pa OUT -run bench main W     (W = w1|w2|w3|w4|w8|w10)
%%
%% Each run prints `RESULT <metric> <value> <unit>` lines and halts with
%% status 0. Only the workload is timed (erlang:monotonic_time/1), not the
%% start of the VM. A wrong result or an unknown workload is reported on
%% stderr and the VM halts with status 1. Processes left over when a
%% workload is done are not torn down: halting the VM ends them.

-module(bench).
-export([main/0, main/1]).

-define(SKYNET_LEAVES, 1000000).
-define(SKYNET_DIV, 10).
-define(PING_PONG_ROUND_TRIPS, 1000000).
-define(RING_SIZE, 10000).
-define(RING_HOPS, 1000000).
-define(SPAWNS, 100000).
-define(PRODUCERS, 1000).
-define(MSGS_PER_PRODUCER, 10000).
-define(W10_WORKERS, 10000).          % W10_N in the environment overrides it
-define(W10_SLICES, 10).
-define(W10_STEPS, 1000).

%% Entry point for `-run bench main W`: W arrives as a list of strings.
main([W]) ->
    try run(W) of
        ok -> erlang:halt(0)
    catch
        throw:{bench_failed, Msg} ->
            fail(Msg);
        Class:Reason:Stack ->
            fail(io_lib:format("~p:~p~n~p", [Class, Reason, Stack]))
    end;
main(Args) ->
    fail(io_lib:format("usage: bench main w1|w2|w3|w4|w8|w10 (got ~p)", [Args])).

%% `-run bench main` without a workload.
main() -> main([]).

run("w1") -> w1();
run("w2") -> w2();
run("w3") -> w3();
run("w4") -> w4();
run("w8") -> w8();
run("w10") -> w10();
run(W) -> throw({bench_failed, io_lib:format("unknown workload ~s", [W])}).

%% ---- W1 skynet: a 10-ary tree of processes, 1,000,000 leaves. Each leaf
%% sends its ordinal to its parent; each inner node sums its children's
%% replies and sends the sum up. The root's sum must be 0 + 1 + ... + 999,999.

w1() ->
    Bench = self(),
    T0 = now_ns(),
    spawn(fun() -> skynet(Bench, 0, ?SKYNET_LEAVES, ?SKYNET_DIV) end),
    Sum = receive S -> S end,
    Elapsed = now_ns() - T0,
    Expected = ?SKYNET_LEAVES * (?SKYNET_LEAVES - 1) div 2,
    Sum =:= Expected orelse
        throw({bench_failed, io_lib:format("w1: bad skynet sum ~w (expected ~w)", [Sum, Expected])}),
    report(w1_ms, Elapsed / 1.0e6, "ms"),
    report(w1_sum, Sum, "").

skynet(Parent, Num, 1, _Div) ->
    Parent ! Num;
skynet(Parent, Num, Size, Div) ->
    Self = self(),
    Sub = Size div Div,
    spawn_subtrees(Self, Num, Sub, Div, 0),
    Parent ! collect(Div, 0).

spawn_subtrees(_Self, _Num, _Sub, Div, Div) ->
    ok;
spawn_subtrees(Self, Num, Sub, Div, I) ->
    First = Num + I * Sub,
    spawn(fun() -> skynet(Self, First, Sub, Div) end),
    spawn_subtrees(Self, Num, Sub, Div, I + 1).

collect(0, Sum) -> Sum;
collect(K, Sum) -> receive N -> collect(K - 1, Sum + N) end.

%% ---- W2 ping-pong: the bench and one partner exchange a small integer,
%% 1,000,000 round trips.

w2() ->
    Bench = self(),
    Pong = spawn(fun() -> pong(Bench) end),
    T0 = now_ns(),
    ping(Pong, 0, ?PING_PONG_ROUND_TRIPS),
    Elapsed = now_ns() - T0,
    Pong ! stop,
    report(w2_ns_per_rt, Elapsed / ?PING_PONG_ROUND_TRIPS, "ns").

ping(_Pong, N, N) ->
    ok;
ping(Pong, I, N) ->
    Pong ! I,
    receive
        I -> ping(Pong, I + 1, N);
        Other -> throw({bench_failed, io_lib:format("w2: sent ~w, got back ~w", [I, Other])})
    end.

pong(Ping) ->
    receive
        I when is_integer(I) -> Ping ! I, pong(Ping);
        stop -> ok
    end.

%% ---- W3 ring: 10,000 processes, each told its successor after all are
%% spawned (the set-up, timed on its own); then one token, a hop counter,
%% goes round until it has made 1,000,000 hops, and the node that receives
%% it at 0 tells the bench.

w3() ->
    Bench = self(),
    T0 = now_ns(),
    Nodes = spawn_ring_nodes(Bench, ?RING_SIZE, []),
    [First | _] = Nodes,
    wire(Nodes, First),
    Setup = now_ns() - T0,
    T1 = now_ns(),
    First ! ?RING_HOPS,
    receive token_home -> ok end,
    Elapsed = now_ns() - T1,
    report(w3_setup_ms, Setup / 1.0e6, "ms"),
    report(w3_ns_per_hop, Elapsed / ?RING_HOPS, "ns").

spawn_ring_nodes(_Bench, 0, Acc) ->
    Acc;
spawn_ring_nodes(Bench, K, Acc) ->
    spawn_ring_nodes(Bench, K - 1, [spawn(fun() -> ring_node(Bench) end) | Acc]).

%% Sends each node its successor; the last one closes the ring on the first.
wire([Last], First) ->
    Last ! {next, First},
    ok;
wire([Node | [Next | _] = Rest], First) ->
    Node ! {next, Next},
    wire(Rest, First).

ring_node(Bench) ->
    receive {next, Next} -> ring_loop(Next, Bench) end.

ring_loop(Next, Bench) ->
    receive
        0 ->
            Bench ! token_home,
            ring_loop(Next, Bench);
        K ->
            Next ! K - 1,
            ring_loop(Next, Bench)
    end.

%% ---- W4 spawn: spawn_monitor 100,000 processes that exit at once, then
%% receive every 'DOWN'.

w4() ->
    T0 = now_ns(),
    spawn_monitor_n(?SPAWNS),
    await_downs(?SPAWNS),
    Elapsed = now_ns() - T0,
    report(w4_ns_per_spawn, Elapsed / ?SPAWNS, "ns").

spawn_monitor_n(0) ->
    ok;
spawn_monitor_n(K) ->
    spawn_monitor(fun() -> ok end),
    spawn_monitor_n(K - 1).

await_downs(0) ->
    ok;
await_downs(K) ->
    receive {'DOWN', _Ref, process, _Pid, _Reason} -> await_downs(K - 1) end.

%% ---- W8 fan-in: 1,000 producers each send 10,000 messages to one
%% consumer, which counts all 10,000,000 and then tells the bench.

w8() ->
    Bench = self(),
    Total = ?PRODUCERS * ?MSGS_PER_PRODUCER,
    T0 = now_ns(),
    Consumer = spawn(fun() -> consume(Total, Bench) end),
    spawn_producers(Consumer, ?PRODUCERS),
    receive {consumed, Total} -> ok end,
    Elapsed = now_ns() - T0,
    report(w8_msgs_per_s, Total / (Elapsed / 1.0e9), "msg/s").

consume(0, Bench) ->
    Bench ! {consumed, ?PRODUCERS * ?MSGS_PER_PRODUCER};
consume(K, Bench) ->
    receive _ -> consume(K - 1, Bench) end.

spawn_producers(_Consumer, 0) ->
    ok;
spawn_producers(Consumer, K) ->
    spawn(fun() -> produce(Consumer, ?MSGS_PER_PRODUCER) end),
    spawn_producers(Consumer, K - 1).

produce(_Consumer, 0) -> ok;
produce(Consumer, I) -> Consumer ! I, produce(Consumer, I - 1).

%% ---- W10 unbalanced: the bench spawns N workers (W10_N, default 10,000)
%% with a plain spawn. Worker I starts with X = I and does 10 slices of 1,000
%% Park-Miller steps, calling erlang:yield() between slices, then sends X to
%% the bench, which sums the N values and checks the sum. X stays below
%% 2^31 and X * 48271 below 2^47: small integers, no bignums.

w10() ->
    N = case os:getenv("W10_N") of
            false -> ?W10_WORKERS;
            V -> list_to_integer(V)
        end,
    Expected = w10_expected(N),
    Bench = self(),
    T0 = now_ns(),
    spawn_workers(Bench, 1, N),
    Sum = collect(N, 0),
    Elapsed = now_ns() - T0,
    Sum =:= Expected orelse
        throw({bench_failed, io_lib:format("w10: bad sum ~w (expected ~w)", [Sum, Expected])}),
    report(w10_ms, Elapsed / 1.0e6, "ms").

%% The sum the bench must get, computed the same way as the workers:
%% hard-coded for the default N, computed (untimed) for any other.
w10_expected(?W10_WORKERS) -> 10736709305125;
w10_expected(N) -> lists:sum([steps(I, ?W10_SLICES * ?W10_STEPS) || I <- lists:seq(1, N)]).

spawn_workers(_Bench, I, N) when I > N ->
    ok;
spawn_workers(Bench, I, N) ->
    spawn(fun() -> Bench ! slices(I, ?W10_SLICES) end),
    spawn_workers(Bench, I + 1, N).

%% The slices of one worker; it yields between two of them.
slices(X, 1) ->
    steps(X, ?W10_STEPS);
slices(X, S) ->
    X1 = steps(X, ?W10_STEPS),
    erlang:yield(),
    slices(X1, S - 1).

steps(X, 0) -> X;
steps(X, K) -> steps(X * 48271 rem 2147483647, K - 1).

%% ---- helpers

now_ns() -> erlang:monotonic_time(nanosecond).

%% One `RESULT <metric> <value> <unit>` line; an empty unit leaves a
%% trailing space, as the other peers print it.
report(Metric, Value, Unit) when is_integer(Value) ->
    io:format("RESULT ~s ~w ~s~n", [Metric, Value, Unit]);
report(Metric, Value, Unit) ->
    io:format("RESULT ~s ~.1f ~s~n", [Metric, Value, Unit]).

fail(Msg) ->
    io:format(standard_error, "bench: ~s~n", [Msg]),
    erlang:halt(1).
