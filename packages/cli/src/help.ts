/** The help text of each command, printed by `iproto help <command>` and `iproto <command> --help`. */
export const COMMAND_HELP = {
  ping: `Usage: iproto ping host:port[,host:port...] [options]

Pings each server and prints its round-trip time. Exits with 1 when any server is down.

Options:
  --msg N          message code of the ping (default 0xff00, the Tarantool 1.5 / Octopus ping)
  --count N        pings per server, one after another (default 1)
  --timeout MS     connect and reply timeout in milliseconds (default 2000)
  --json           print one JSON object instead of a table
  -h, --help       show this help

Example:
  iproto ping 127.0.0.1:33013,127.0.0.1:33014 --count 3`,

  send: `Usage: iproto send host:port[,host:port...] --msg N [--pack TEMPLATE] [values...] [options]

Sends one message and prints the reply, decoded with --unpack or as a packet dump. Given several
servers (Perl's "host:port[:weight],..." string), it sends to the one MR::IProto::Cluster picks
for --key with --balance, and says which.

Options:
  --msg N              message code (decimal or 0x hex; required)
  --pack TEMPLATE      Perl pack template for the body; the values follow the address
  --payload-hex HEX    the body as hex bytes instead (mutually exclusive with --pack)
  --unpack TEMPLATE    Perl unpack template for the reply body
  --no-reply           the message has no reply: done once written
  --no-ints            leave the integers out of the packet dump (MR::IProto's dump_no_ints)
  --timeout MS         connect and reply timeout in milliseconds (default 2000)
  --key KEY            balancing key (a string; numbers hash as their decimal form, as in Perl)
  --balance NAME       round-robin (rr), hash-crc32 (hash) or ketama (default hash-crc32 with
                       --key, else round-robin)
  --json               print one JSON object
  -h, --help           show this help

Values: integers become numbers (bigints beyond 2^53 or with an "n" suffix), decimals numbers,
"hex:0a0b" bytes, "str:..." always a string, anything else a string. Negative numbers need no "--"
(-5, -0x10); other words that begin with "-" go after "--". The value "-" is every byte of stdin,
as it is (up to 16 MiB; "str:-" is the one-character string).

Message codes print in decimal below 0x100 and in hex from there up (msg=17, msg=0xff00).

Examples (the Tarantool 1.5 box of "iproto serve": INSERT [7, "hello"] into space 0, SELECT key 7):
  iproto send 127.0.0.1:33013 --msg 13 --pack 'L L L C L w/a*' 0 0 2 4 7 hello --unpack 'L L'
  iproto send 127.0.0.1:33013 --msg 17 --pack 'L L L L L L C L' 0 0 0 10 1 1 4 7 --unpack 'L L L L x L w/a*'
  iproto send 10.0.0.1:33013,10.0.0.2:33013 --key 7 --msg 17 --pack 'L L L L L L C L' 0 0 0 10 1 1 4 7
  head -c 1000 /dev/urandom | iproto send 127.0.0.1:33013 --msg 13 --pack 'L L L C L w/a*' 0 0 2 4 8 -`,

  decode: `Usage: iproto decode [file|-] [options]

Lists the iproto frames of a captured byte stream (one direction of a TCP conversation) with the
MR::IProto packet dump of each, offline. Reads stdin when the file is "-" or missing.

Options:
  --unpack TEMPLATE    also decode each body with this Perl unpack template
  --msg N              only frames with this message code
  --no-ints            leave the integers out of the packet dump (MR::IProto's dump_no_ints)
  --json               print one JSON object
  -h, --help           show this help

Example:
  iproto decode capture.bin --unpack 'L w/a*'`,

  bench: `Usage: iproto bench host:port[,host:port...] [request] [load] [options]

A load generator over @iproto/client: sends a real request over the servers, balanced as your
application balances it, then prints throughput and latency percentiles (p50 p90 p99 p99.9 max). A live progress line is shown
when stdout is a terminal. Ctrl-C stops early and prints what completed.

Request (default: the ping, msg 0xff00 with an empty body, which any iproto server answers):
  --msg N              message code (decimal or 0x hex)
  --pack TEMPLATE      Perl pack template for the body; the values follow the servers, as for send
                       ("-" reads one from stdin)
  --payload-hex HEX    the body as hex bytes
  --body BYTES         a body of this many bytes
  --frame FILE         send the frames of FILE (back-to-back iproto frames, a capture) in turn,
                       each with its own message code and body

Load:
  --requests N         stop after N measured requests (default 100000 without --duration)
  --duration TIME      stop after this long (500ms, 10s, 1.5m, 1h; at most 24h)
  --warmup TIME        send for this long first, counting nothing (default 0; at most 1h)
  --rate N[/s]         fixed rate: N requests a second on a schedule, each one's latency measured
                       from when it was due (coordinated omission accounted for); requests due while
                       every slot is busy wait, and those still waiting at the end are "unsent"
  --depth N            requests in flight per connection: kept there, or with --rate at most
                       (default 64)
  --connections N      connections to each server (default 1); depth x connections <= 100,000

Servers (as MR::IProto::Cluster picks one per request):
  --balance NAME       round-robin (rr), hash-crc32 (hash) or ketama (default hash-crc32 with
                       --key, else round-robin)
  --key KEY            every request's balancing key (a string; numbers hash as their decimal form)
  --key random         a key per request, an integer below 2^32 from a seeded PRNG: hash and ketama
                       spread the requests over the shards as many keys do
  --seed N             the seed of --key random (default 1: every run draws the same keys)

Options:
  --timeout MS         per-request timeout in milliseconds (default 2000)
  --json               print one JSON object instead of the table
  -h, --help           show this help

Without --rate the generator is a closed loop: the next request goes out when one completes, so
its latencies are service times, not what a client sending at a steady rate would see.

Examples:
  iproto bench 127.0.0.1:33013 --depth 256 --requests 1000000 --connections 4
  iproto bench 10.0.0.1:33013,10.0.0.2:33013 --rate 20000/s --duration 30s --warmup 5s
  iproto bench 10.0.0.1:33013,10.0.0.2:33013,10.0.0.3:33013 --balance ketama --key random --duration 10s
  iproto bench 127.0.0.1:33013 --msg 17 --pack 'L L L L L L C L' 0 0 0 10 1 1 4 7 --duration 10s
  iproto bench 127.0.0.1:33013 --frame requests.bin --rate 5000 --duration 1m`,

  serve: `Usage: iproto serve [--port N] [--host HOST] [--space ID[:TYPE,...]]... [--echo] [options]

Runs an iproto server until interrupted (Ctrl-C): an in-memory Tarantool 1.5 box (the box double of
@iproto/server/testing: INSERT, SELECT, UPDATE, DELETE, CALL and ping, answered with a real 1.5
server's bytes, error codes and texts), or with --echo a server that answers every message with its
own body. The tuples live in memory until it stops.

Options:
  --port N                 port to listen on (default 0: a free port, printed at start)
  --host HOST              address to listen on (default 127.0.0.1)
  --space ID[:TYPE,...]    a space whose primary key is fields 0, 1, ... of these types: NUM (4-byte
                           unsigned), NUM64 (8 bytes) or STR; default NUM. Repeat for more spaces.
                           Default: one space, 0:NUM
  --echo                   answer every message with its body instead of running the box
  --json                   print the listening address as one JSON object
  -h, --help               show this help

Examples:
  iproto serve --port 33013
  iproto serve --port 33013 --space 0 --space 1:STR,NUM`,
  box: `Usage: iproto box <select|insert|update|delete|call> host:port --format LETTERS [options] [args]

Talks to a Tarantool 1.5 / Octopus box through @iproto/box (MR::Tarantool::Box), with the space
described on the command line, and prints the tuples as a table (or --json).

  iproto box select ADDR --format F [--key FIELDS] [--index N] [--limit N] [--offset N] KEY...
  iproto box insert ADDR --format F [--add | --replace] [--want-result] FIELD...
  iproto box update ADDR --format F [--key FIELDS] [--want-result] KEY FIELD OP [ARG...] ...
  iproto box delete ADDR --format F [--key FIELDS] [--want-result] KEY
  iproto box call   ADDR [--format F] [--fields NAMES] PROCEDURE [ARG...]

Options:
  --space N          the space number (default 0)
  --format LETTERS   one letter per field, as MR::Tarantool::Box: Q q (64-bit), L l (32-bit),
                     S s (16-bit), C c (8-bit) integers (upper case unsigned), & bytes, $ UTF-8
                     text; a trailing * repeats the last letter (or a final "(letters)*") over a
                     long tuple. Required, except for call (default "&*": every field as bytes)
  --fields NAMES     comma-separated field names: the table's header and the JSON objects' keys;
                     --key and update ops may then name fields
  --key FIELDS       the key's fields, by number or name, comma-separated (default 0)
  --index N          select by index N, whose key is --key (default 0, the primary key)
  --limit N          select at most N tuples (default 2147483647)
  --offset N         skip the first N tuples of a select
  --add              insert only when the key is new (Perl's Add)
  --replace          insert only when the key exists (Perl's Replace)
  --want-result      insert, update and delete print the tuple instead of the count
  --timeout MS       connect and reply timeout in milliseconds (default 2000)
  --json             print one JSON object: {"count":N} or {"count":N,"tuples":[...]}
  -h, --help         show this help

Keys and fields: integer fields take decimal or 0x hex numbers, text fields take the word as it is;
"hex:0a0b" is bytes and "str:..." always text. A key of several fields is written "a,2" (a prefix
of them selects by the leading fields of a TREE index), or as a JSON array '["a,b",2]'.

Update ops, in order: FIELD OP ARG, where OP is set, insert (before FIELD), add, num_add, num_sub,
and, xor, or, bit_set, bit_clear, append, prepend, cutbeg, cutend; FIELD delete (no argument);
FIELD splice OFFSET LENGTH TEXT.

Errors of the box print as one line with its code and text, e.g.
  iproto box select: ... Error 00003902: Space 9 does not exist
and exit with 1.

Examples:
  iproto box insert 127.0.0.1:33013 --format 'L$L' 1 alice 30
  iproto box select 127.0.0.1:33013 --format 'L$L' --fields id,name,age 1 2
  iproto box update 127.0.0.1:33013 --format 'L$L' --fields id,name,age 1 age add 1 name append '!'
  iproto box delete 127.0.0.1:33013 --format 'L$L' --want-result 1
  iproto box call 127.0.0.1:33013 --format 'L$' box.users.list 10`,
} as const;

/** The names of the `iproto` commands (the keys of {@link COMMAND_HELP}). */
export type CommandName = keyof typeof COMMAND_HELP;

/** The text `iproto --help` prints: usage and the list of commands. */
export const GENERAL_HELP = `Usage: iproto <command> [options]

The iproto (Mail.Ru / Tarantool 1.5 / Octopus) protocol from the command line.

Commands:
  ping     ping servers and print round-trip times
  send     send one message and print the reply
  decode   list the frames of a captured byte stream, offline
  bench    a load generator: throughput and latency percentiles
  serve    run a Tarantool 1.5 box (in memory) or an echo server
  box      select, insert, update, delete and call on a Tarantool 1.5 box
  help     show help for a command: iproto help <command>

Every command takes --help; iproto --version (or -V) prints the version. Errors are printed as one
line on stderr, or with --json as one JSON object: {"error":{"code","message","exitCode"}}. The exit
code is 0 on success, 1 when the command failed (a server down, a request rejected) and 2 for a bad
command line.`;
