/* image_format.h - the one list of image formats: the output formats we write (their names,
 * file suffixes, MIME types, labels, default quality, 16-bit support) and the input
 * formats we read (decoder name, file suffixes, the format an output defaults to).
 * The operations model (output.format), the encoder, and the CLI's folder scan all read
 * these tables; adding a format is one row here plus its encoder call.
 * Constant data; thread-safe. */
#ifndef ENH_IMAGE_FORMAT_H
#define ENH_IMAGE_FORMAT_H

typedef enum {
    ENH_FORMAT_SAME = 0, /* same as input where we can write it, else from the output suffix */
    ENH_FORMAT_JPEG,
    ENH_FORMAT_PNG,
    ENH_FORMAT_WEBP,
    ENH_FORMAT_AVIF,
    ENH_FORMAT_TIFF
} enh_format;

/* A name and the enum value it stands for; lists end with name == NULL. */
typedef struct enh_named {
    const char *name;
    int value;
} enh_named;

typedef struct enh_format_info {
    enh_format format;
    const char *name;        /* canonical name ("jpeg") */
    const char *suffixes;    /* space-separated suffixes that mean this format ("jpg jpeg jpe") */
    const char *extension;   /* the suffix we write ("jpg") */
    const char *mime;
    const char *label;       /* for messages ("JPEG") */
    int default_quality;     /* used when no quality is given; 0 = the format has none */
    int can16;               /* can store 16-bit samples */
} enh_format_info;

/* Every name output.format accepts, canonical names first for each value ("same", "jpeg",
 * "jpg", ...). */
extern const enh_named enh_format_names[];

/* Row of a concrete format; NULL for ENH_FORMAT_SAME or an invalid value. */
const enh_format_info *enh_format_info_of(enh_format f);
/* Format from a file name's suffix (case-insensitive), else ENH_FORMAT_SAME. */
enh_format enh_format_from_path(const char *path);
/* The format we write for an input format name from enh_image_info ("gif" -> PNG,
 * "heif" -> AVIF); PNG for an unknown or NULL name. */
enh_format enh_format_for_input(const char *input_format);
const char *enh_format_extension(enh_format f); /* "jpg", "png", "webp", "avif", "tif"; "" for SAME */
const char *enh_format_mime(enh_format f);      /* application/octet-stream for SAME */
const char *enh_format_label(enh_format f);     /* "JPEG", "PNG", "WebP", "AVIF", "TIFF" (messages) */
/* Our default quality when none is given (0 = the format has no quality setting). */
int enh_format_default_quality(enh_format f);
/* 1 when the format can store 16-bit samples. */
int enh_format_can16(enh_format f);
/* 1 when a file suffix (without the dot, any case) is one of an input format we read. */
int enh_format_input_suffix(const char *suffix);

#endif
