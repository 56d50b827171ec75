/* The command line of pwb's FastCGI front ends (pwb-scim, pwb-login):
 * [--config PATH] [--debug] [--log-stderr] [--help], parsed one way. */
#ifndef PWB_SERVICE_CLI_H
#define PWB_SERVICE_CLI_H

#include <stdbool.h>
#include <stdio.h>

struct pwb_service_cli {
	const char *config_path; /* NULL: $PWB_CONFIG or the default */
	bool debug;
	bool to_stderr; /* also when stderr is a terminal */
};

/* Parses argv. -1: go on with *out filled; otherwise the exit status
 * (0 after --help, usage on stdout; 2 for a bad command line, usage on
 * stderr). */
int pwb_service_cli_parse(int argc, char **argv, void (*usage)(FILE *),
			  struct pwb_service_cli *out);

#endif
