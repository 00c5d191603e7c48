/* bad_input_util.h: the check that the bad-input tests share: run the
 * clunet binary, check its exit code and that stderr is exactly one line
 * "clunet: ..." holding an expected word, and print the case as
 * "bad-input: CODE | WHAT | LINE" (the temporary folder shown as <tmp>)
 * for tools/bad_input_table.py, which builds docs/BAD_INPUT.md. */
#ifndef CLUNET_BAD_INPUT_UTIL_H
#define CLUNET_BAD_INPUT_UTIL_H

/* The binary, the test's temporary folder (hidden in the table) and a file
 * for the child's output; the strings must outlive the test. */
void bi_init(const char *exe, const char *tmp, const char *log_path);

/* Runs clunet with args (NULL-terminated, without argv[0]) and checks the
 * exit code and the one line (which must contain must, unless NULL);
 * prints the table line. Returns the exit code. */
int bi_expect(int code, const char *what, const char *must, char **args);

/* Prints a table line for a case checked otherwise (line: what clunet
 * said, the temporary folder replaced by <tmp>). */
void bi_table_line(int code, const char *what, const char *line);

#endif
