/* cli_assess_brisque.h - the BRISQUE line of `enhance assess`: the score of OpenCV's LIVE-trained
 * model (enhance/brisque.h) beside our own assessment, or, when the model files are missing or the
 * image cannot be scored, a note saying why and how to install them; `enhance assess` still
 * succeeds then (BRISQUE is extra information, the assessment is what auto mode uses).
 *
 * Ownership: the image is borrowed; JSON text in and out is malloc'd (caller frees).
 * Thread-safety: none needed (one command, one thread). Errors: never fatal, recorded in the
 * result (status + message); cli_assess_brisque_json returns NULL only on out of memory. */
#ifndef ENH_CLI_ASSESS_BRISQUE_H
#define ENH_CLI_ASSESS_BRISQUE_H

#include <stddef.h>
#include <vips/vips.h>

#include "core/error.h"

typedef struct cli_brisque {
    int ran;          /* score is valid */
    double score;     /* 0 best .. 100 worst */
    enh_status status; /* why it did not run (ENH_ENOTFOUND: the model files are missing) */
    char error[1024];  /* an enh_error message */
} cli_brisque;

/* Loads the model (NULL paths: Debian's opencv-data files) and scores img into r. */
void cli_assess_brisque(VipsImage *img, const char *model_yml, const char *range_yml, cli_brisque *r);

/* One line for people: "brisque      23.4 (0 best .. 100 worst; ...)" or the note. */
void cli_assess_brisque_line(const cli_brisque *r, char *buf, size_t n);

/* The assessment's JSON with a "brisque" member added (the shape of `enhance check`'s
 * quality.brisque: {"available": true, "score", "scale"} | {"available": false, "error",
 * "install"}). NULL on out of memory or when assess_json does not parse. */
char *cli_assess_brisque_json(const char *assess_json, const cli_brisque *r);

#endif
