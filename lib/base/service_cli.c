/* The front ends' shared command line (see service_cli.h). */
#include <getopt.h>
#include <unistd.h>
#include "service_cli.h"

int pwb_service_cli_parse(int argc, char **argv, void (*usage)(FILE *), struct pwb_service_cli *out)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"debug", no_argument, NULL, 'd'},
	    {"log-stderr", no_argument, NULL, 'e'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	*out = (struct pwb_service_cli){.to_stderr = isatty(STDERR_FILENO)};
	while ((c = getopt_long(argc, argv, "c:deh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			out->config_path = optarg;
			break;
		case 'd':
			out->debug = true;
			break;
		case 'e':
			out->to_stderr = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}
