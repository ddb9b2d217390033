%% SPDX-License-Identifier: MIT
%%
%% The BEAM peer of W11 (benchmarks/peers/README.md): a gen_tcp line echo
%% server on 127.0.0.1, one process per connection.
%%
%%   erlc -o OUT tcp_echo.erl
%%   erl +S T -noshell -pa OUT -run tcp_echo main PORT
%%
%% As otp's echo_server does, it greets each connection with one line; then
%% every line is echoed back. The sockets are in {packet, line} mode, so
%% each {tcp, Socket, Line} message holds one whole line with its newline,
%% and {active, once}, so the next line is read only once the last one has
%% been answered (as otp's echo_server reads). It serves until it is killed.

-module(tcp_echo).
-export([main/1]).

main([PortText]) ->
    Port = list_to_integer(PortText),
    Options = [binary, {packet, line}, {active, false}, {reuseaddr, true},
               {ip, {127, 0, 0, 1}}, {backlog, 1024}],
    case gen_tcp:listen(Port, Options) of
        {ok, Listen} ->
            io:format("tcp_echo: listening on 127.0.0.1:~w~n", [Port]),
            accept(Listen);
        {error, Reason} ->
            io:format(standard_error, "tcp_echo: listen: ~p~n", [Reason]),
            erlang:halt(1)
    end.

%% One acceptor; each socket is handed to a new process, which waits for
%% the hand-over before it touches the socket.
accept(Listen) ->
    {ok, Socket} = gen_tcp:accept(Listen),
    Pid = spawn(fun() -> receive {owner, Socket} -> connection(Socket) end end),
    ok = gen_tcp:controlling_process(Socket, Pid),
    Pid ! {owner, Socket},
    accept(Listen).

connection(Socket) ->
    _ = gen_tcp:send(Socket, <<"welcome; every line is echoed back\n">>),
    loop(Socket).

%% A failed send needs no case of its own: the socket's close or error
%% arrives as the next message (or fails the next setopts).
loop(Socket) ->
    case inet:setopts(Socket, [{active, once}]) of
        ok ->
            receive
                {tcp, Socket, Line} ->
                    _ = gen_tcp:send(Socket, Line),
                    loop(Socket);
                {tcp_closed, Socket} ->
                    ok;
                {tcp_error, Socket, _Reason} ->
                    gen_tcp:close(Socket)
            end;
        {error, _Closed} ->
            gen_tcp:close(Socket)
    end.
