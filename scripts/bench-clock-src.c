/*
 * vkstream latency benchmark source: a camera whose picture carries its
 * capture time.  Writes raw yuv420p frames to stdout at FPS, paced by
 * CLOCK_REALTIME, each with a barcode of the wall clock (ms since the
 * epoch) at the moment the frame was made:
 *
 *     bench-clock-src WIDTH HEIGHT FPS [SECONDS] | ffmpeg -f rawvideo \
 *         -pix_fmt yuv420p -s WIDTHxHEIGHT -framerate FPS -i - ...
 *
 * The barcode (read back by scripts/bench-latency.js) is 64 blocks in two
 * rows of 32 across the full width, starting 1/18 of the height from the
 * top, each row 1/18 of the height tall: at 1280x720 a block is 40x40 px,
 * still 15x15 px in a 480-wide rendition.  A block is white (Y 235) for 1,
 * black (Y 16) for 0, chroma neutral.  Bits, most significant first: 48
 * bits of the time in ms, then the CRC-16/CCITT-FALSE of those 6 bytes
 * (big-endian), so a reader can drop a frame it misread.  The rest of the
 * picture moves, so the encoders have real work.
 *
 * Every 10 s it prints to stderr how late the frames of that window were
 * made at most and how many frames it skipped so far ("clock: frames=N
 * late_max_ms=L skipped=S"): frames are late when the encoder reading the
 * pipe falls behind real time.
 */


#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#define CLOCK_BITS   64
#define CLOCK_COLS   32


static uint16_t
clock_crc16(const uint8_t *p, size_t n)
{
    uint16_t  crc = 0xffff;
    size_t    i;
    int       b;

    for (i = 0; i < n; i++) {
        crc ^= (uint16_t) p[i] << 8;
        for (b = 0; b < 8; b++) {
            crc = (crc & 0x8000) ? (uint16_t) ((crc << 1) ^ 0x1021)
                                 : (uint16_t) (crc << 1);
        }
    }

    return crc;
}


static int64_t
clock_now_ns(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_REALTIME, &ts);

    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}


static void
clock_draw(uint8_t *frame, int w, int h, long n, int64_t ms)
{
    uint8_t   bytes[6], *y, *u, *v, lum;
    uint16_t  crc;
    uint64_t  bits;
    int       i, row, col, bw, bh, top, x, yy;

    y = frame;
    u = frame + (size_t) w * h;
    v = u + (size_t) (w / 2) * (h / 2);

    /* a moving diagonal ramp and slowly turning colours */
    for (yy = 0; yy < h; yy++) {
        for (x = 0; x < w; x++) {
            y[(size_t) yy * w + x] = (uint8_t) (16 + ((x + yy + n * 6) % 220));
        }
    }
    memset(u, (int) (64 + (n % 128)), (size_t) (w / 2) * (h / 2));
    memset(v, (int) (192 - (n % 128)), (size_t) (w / 2) * (h / 2));

    for (i = 0; i < 6; i++) {
        bytes[i] = (uint8_t) (ms >> (40 - 8 * i));
    }
    crc = clock_crc16(bytes, 6);
    bits = ((uint64_t) ms << 16) | crc;

    bw = w / CLOCK_COLS;
    bh = h / 18;
    top = h / 18;

    for (i = 0; i < CLOCK_BITS; i++) {
        row = i / CLOCK_COLS;
        col = i % CLOCK_COLS;
        lum = ((bits >> (CLOCK_BITS - 1 - i)) & 1) ? 235 : 16;

        for (yy = top + row * bh; yy < top + (row + 1) * bh; yy++) {
            memset(y + (size_t) yy * w + col * bw, lum, bw);
        }
    }

    /* neutral chroma under the strip */
    for (yy = top / 2; yy < (top + 2 * bh) / 2; yy++) {
        memset(u + (size_t) yy * (w / 2), 128, w / 2);
        memset(v + (size_t) yy * (w / 2), 128, w / 2);
    }
}


int
main(int argc, char **argv)
{
    int              w, h, fps;
    long             n, frames, skipped;
    size_t           size, off;
    ssize_t          k;
    uint8_t         *frame;
    int64_t          t0, due, now, late, late_max, report;
    double           secs;
    struct timespec  ts;

    if (argc < 4) {
        fprintf(stderr, "usage: bench-clock-src WIDTH HEIGHT FPS "
                "[SECONDS]\n");
        return 2;
    }

    w = atoi(argv[1]);
    h = atoi(argv[2]);
    fps = atoi(argv[3]);
    secs = argc > 4 ? atof(argv[4]) : 0;

    if (w < 64 || h < 36 || (w % 2) || (h % 2) || fps < 1 || fps > 120) {
        fprintf(stderr, "bench-clock-src: bad size or rate\n");
        return 2;
    }

    signal(SIGPIPE, SIG_IGN);

    size = (size_t) w * h * 3 / 2;
    frame = malloc(size);
    if (frame == NULL) {
        return 1;
    }

    frames = secs > 0 ? (long) (secs * fps) : -1;
    t0 = clock_now_ns();
    late_max = 0;
    skipped = 0;
    report = t0 + 10000000000LL;

    for (n = 0; frames < 0 || n < frames; n++) {
        due = t0 + n * 1000000000LL / fps;

        ts.tv_sec = due / 1000000000;
        ts.tv_nsec = due % 1000000000;
        while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL)
               == EINTR)
        {
            /* again */
        }

        /*
         * A camera whose encoder falls behind drops frames: more than two
         * frames late, skip to the frame due now (the encoder timestamps
         * frames as they arrive, -use_wallclock_as_timestamps).
         */
        now = clock_now_ns();
        late = (now - due) / 1000000;
        if (late > late_max) {
            late_max = late;
        }
        if (now - due > 2 * 1000000000LL / fps) {
            skipped += (now - t0) * fps / 1000000000 - n;
            n = (now - t0) * fps / 1000000000;
        }

        /* the capture time */
        clock_draw(frame, w, h, n, now / 1000000);
        if (now >= report) {
            report += 10000000000LL;
            fprintf(stderr, "clock: frames=%ld late_max_ms=%lld "
                    "skipped=%ld\n", n + 1, (long long) late_max, skipped);
            late_max = 0;
        }

        for (off = 0; off < size; off += (size_t) k) {
            k = write(1, frame + off, size - off);
            if (k < 0 && errno == EINTR) {
                k = 0;
                continue;
            }
            if (k <= 0) {
                /* the encoder went away */
                free(frame);
                return 0;
            }
        }
    }

    free(frame);

    return 0;
}
