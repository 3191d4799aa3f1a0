/* fuzz_journal.c - the batch journal (src/cli/cli_batch_journal.c: OUTDIR/.enhance-batch.done,
 * lines "<size> <sha256> <relative path>"), which a resumed batch reads back after a crash, a
 * full disk or another tool has had its way with it. The input is the journal file; it is
 * loaded, every record is checked against a real output file, then one more output is appended
 * and the journal reloaded: the output just recorded must verify (the latest record of a path
 * wins), whatever the file held before. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_batch_journal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_tmpdir();
    char jpath[256], out[256];
    snprintf(jpath, sizeof jpath, "%s/%s", dir, CLI_BATCH_JOURNAL_FILE);
    snprintf(out, sizeof out, "%s/out.jpg", dir);
    fuzz_write_file(jpath, data, size);
    fuzz_write_file(out, "abc", 3);
    cli_journal j;
    if (cli_journal_load(&j, dir, 0) != 0)
        fuzz_fail("cli_journal_load failed (out of memory?)");
    fuzz_accepted += j.n > 0;
    for (size_t i = 0; i < j.n; i++) {
        if (i && strcmp(j.v[i - 1].rel, j.v[i].rel) >= 0)
            fuzz_fail("records not sorted and unique at %zu", i);
        (void)cli_journal_verify(&j, j.v[i].rel, out);
    }
    (void)cli_journal_verify(&j, "out.jpg", out);
    if (cli_journal_append(&j, "out.jpg", out) != 0)
        fuzz_fail("cli_journal_append failed");
    cli_journal_free(&j);
    if (cli_journal_load(&j, dir, 0) != 0)
        fuzz_fail("cli_journal_load failed (out of memory?)");
    if (!cli_journal_verify(&j, "out.jpg", out))
        fuzz_fail("the output appended last does not verify after a reload");
    cli_journal_free(&j);
    return 0;
}

void fuzz_seeds(fuzz_emit_fn emit, void *ctx)
{
    static const char j0[] =
        "3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad out.jpg\n"
        "1024 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 sub/dir/photo 1.webp\n"
        "7 0000000000000000000000000000000000000000000000000000000000000000 out.jpg\n"
        "5 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad a.png\n";
    static const char j1[] = "3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad out.jpg\n"
                             "12 ba7816bf8f01cfea414140de5dae22"; /* torn by a kill during the append */
    emit(ctx, "journal.txt", j0, sizeof j0 - 1);
    emit(ctx, "torn.txt", j1, sizeof j1 - 1);
}
