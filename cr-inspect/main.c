/* cr-inspect: look into checkpoint images. */
#include <stdio.h>
#include <string.h>

#include "cr-inspect.h"

static const struct img_cmd commands[] = {
	{ "decode", cmd_decode, "decode [-i IN] [-o OUT] [--pretty] [--linuxcr-version V]",
	  "print an image as JSON, as crit decode does (a linux-cr stream: every record decoded)",
	  "  -i, --in FILE        the image (default: stdin)\n"
	  "  -o, --out FILE       write the JSON to FILE (default: stdout)\n"
	  "      --pretty         indent, and show numbers as crit --pretty does\n"
	  "      --linuxcr-version V  read a linux-cr stream as version V (v18 ... v23-rc2)\n" },
	{ "show", cmd_show, "show IMG [--nopl]",
	  "print an image as indented JSON, as crit show does",
	  "      --nopl           leave out extra payloads (pipe data, queued packets...)\n" },
	{ "info", cmd_info, "info IMG [--entries]",
	  "print an image's kind and number of entries, as crit info does",
	  "      --entries        also list each entry's offset, size and extra payload size\n" },
	{ "check", cmd_check, "check CKPT [--root DIR] [--target PROFILE] [--only AREAS] [--strict] [--skip-file-rwx-check]",
	  "say whether an image set is whole and will restore on this host (or another)",
	  "      --root DIR       look up the files the images name under DIR (default: /)\n"
	  "      --target PROFILE check against a machine profile (from host-profile) instead of this host\n"
	  "      --only AREAS     check only these: images,files,pids,kernel,cpu (images: integrity alone)\n"
	  "      --strict         exit 1 on warnings too\n"
	  "      --skip-file-rwx-check  the restore will use CRIU's option of that name: permission bits may differ\n"
	  "exit status: 0 ready, 1 errors found (or warnings with --strict), 2 the check could not run\n" },
	{ "host-profile", cmd_host_profile, "host-profile [-o FILE] [--no-criu]",
	  "print this machine's profile (kernel, CPU, XSAVE, cgroups) as JSON, for check --target",
	  "  -o, --out FILE       write the profile to FILE\n"
	  "      --no-criu        do not run criu --version\n" },
	{ "explain", cmd_explain, "explain LOG [CKPT] [--root DIR] [--target PROFILE]",
	  "find the first error of a CRIU restore or dump log, its cause and what to do",
	  "      --root DIR       with CKPT: look up files under DIR for the checks (default: /)\n"
	  "      --target PROFILE with CKPT: check against this machine profile\n"
	  "  -C, --context N      show N log lines around an unknown error (default: 3)\n" },
	{ "x", cmd_x, "x CKPT ps|fds|mems|rss|sk",
	  "explore a checkpoint as crit x does: process tree, files, mappings, resident pages, sockets",
	  NULL },
	{ "summary", cmd_summary, "summary CKPT",
	  "what a checkpoint holds: tasks with command lines and environment, files, sockets, mounts, namespaces, statistics, sizes, container metadata",
	  NULL },
	{ "ps", cmd_ps, "ps CKPT [--pid P]",
	  "list the tasks: pids, state, threads, command line",
	  "      --pid P          only task P\n" },
	{ "tree", cmd_ps, "tree CKPT [--pid P]",
	  "show the process tree",
	  "      --pid P          the subtree of task P\n" },
	{ "threads", cmd_threads, "threads CKPT [--pid P]",
	  "show each thread: registers, signal masks, credentials, seccomp; and the signal handlers",
	  "      --pid P          only task P\n" },
	{ "maps", cmd_maps, "maps CKPT [--pid P] [--root DIR]",
	  "show the mappings as /proc/PID/maps does, with how many pages the image holds",
	  "      --pid P          only task P\n"
	  "      --root DIR       count file-backed pages readable from the files under DIR\n" },
	{ "fds", cmd_fds, "fds CKPT [--pid P]",
	  "show the open files of each task",
	  "      --pid P          only task P\n" },
	{ "sockets", cmd_sockets, "sockets CKPT [--pid P]",
	  "show sockets and pipes, with the data queued in them and the tasks that hold them",
	  "      --pid P          only those task P holds\n" },
	{ "env", cmd_env, "env CKPT [--pid P]",
	  "print the environment of the tasks, read from their memory",
	  "      --pid P          only task P\n" },
	{ "cmdline", cmd_cmdline, "cmdline CKPT [--pid P]",
	  "print the command line of the tasks, read from their memory",
	  "      --pid P          only task P\n" },
	{ "auxv", cmd_auxv, "auxv CKPT [--pid P]",
	  "print the auxiliary vector of the tasks",
	  "      --pid P          only task P\n" },
	{ "mem", cmd_mem, "mem read CKPT --pid P ADDR [LEN] [-o FILE] | mem dump CKPT [--pid P] -o DIR",
	  "read a task's memory as a hex dump or raw bytes, or dump every mapping to a file",
	  "      --pid P          the task (mem read: required; mem dump: default all, into DIR/PID/)\n"
	  "  -o, --output PATH    read: write the raw bytes to FILE; dump: the folder\n"
	  "      --root DIR       read file-backed pages the image lacks from the files under DIR\n" },
	{ "search", cmd_search, "search CKPT PATTERN [--regex|--hex] [-C N] [--pid P] [--vma KINDS] [--prot rwx] [--addr A-B] [--timeout S]",
	  "find a string, bytes or a regular expression in the tasks' memory",
	  "      --regex          PATTERN is a POSIX extended regular expression\n"
	  "  -x, --hex            PATTERN is hex bytes (\"de ad be ef\")\n"
	  "  -i, --ignore-case    with --regex: ignore case\n"
	  "  -C, --context N      show N bytes around each match (default 16)\n"
	  "      --max-len N      with --regex: the longest match looked for (default 4k, at most 64k)\n"
	  "      --timeout S      with --regex: stop after S seconds of searching (default 60; 0: never)\n"
	  "      --pid P          only task P\n"
	  "      --vma KINDS      only mappings of these kinds: heap,stack,anon,file,shared,vdso,vvar,vsyscall,other\n"
	  "      --prot rwx       only mappings with these permissions\n"
	  "      --addr A-B       only addresses from A to B\n"
	  "      --count          print the number of matches only\n"
	  "      --root DIR       also search file-backed pages in the files under DIR\n" },
	{ "ckptinfo", cmd_ckptinfo, "ckptinfo [-e] [-p] [-v] [--show-arch-regs] [--linuxcr-version V] [IMAGE]",
	  "print what user-cr's ckptinfo prints for a linux-cr stream, line for line",
	  "  -e, --error          print the error records, stop at the first one\n"
	  "  -p, --pids           print the process tree (as ckptinfo: -p is not --pretty here)\n"
	  "  -v, --verbose        print every record, objects, files, vmas (and registers on i386)\n"
	  "      --show-arch-regs ckptinfo's register option (registers print with -v on i386)\n"
	  "      --linuxcr-version V  read the stream as version V\n" },
	{ "tui", cmd_tui, "tui CKPT [CKPT2] [--root DIR] [--marks FILE] [--trace-keys FILE]",
	  "browse a checkpoint in the terminal: processes, threads, maps, files, memory, images (? lists the keys); "
	  "with CKPT2, what changed",
	  "      --root DIR       read file-backed pages the image lacks from the files under DIR\n"
	  "      --marks FILE     keep the marks (m) in FILE, as JSON; read them from it at start\n"
	  "      --trace-keys FILE  write how long each key took to FILE (\"key NAME MS\" lines)\n" },
	{ NULL, NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct img_cli c = { .prog = "cr-inspect" };

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		img_cmd_list(&c, commands, "Look into checkpoint images: decode them, explore them, check them.",
			     argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("cr-inspect %s\n", CR_TOOLS_VERSION);
		return 0;
	}
	return img_cmd_run(&c, commands, argc - 1, argv + 1);
}
