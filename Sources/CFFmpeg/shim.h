// Swift cannot import function-like macros; these inline wrappers expose the few FFmpeg needs.
#pragma once
#include <limits.h>
#include <string.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libswscale/swscale.h>
#include <libswresample/swresample.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/display.h>
#include <libavutil/channel_layout.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/hash.h>

static inline int avz_error_eagain(void) { return AVERROR(EAGAIN); }
static inline int avz_error_eof(void) { return AVERROR_EOF; }
static inline int avz_error_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t avz_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline AVRational avz_time_base_q(void) { return AV_TIME_BASE_Q; }
static inline int avz_time_base(void) { return AV_TIME_BASE; }
static inline int avz_averror(int e) { return AVERROR(e); }
static inline void avz_err2str(int errnum, char *buf, size_t size) { av_strerror(errnum, buf, size); }
static inline int avz_fmt_globalheader(void) { return AVFMT_GLOBALHEADER; }
static inline int avz_fmt_nofile(void) { return AVFMT_NOFILE; }
static inline int avz_codec_flag_global_header(void) { return AV_CODEC_FLAG_GLOBAL_HEADER; }
static inline int avz_frame_flag_corrupt(void) { return AV_FRAME_FLAG_CORRUPT; }

// sws_scale takes arrays of plane pointers; AVFrame keeps them as fixed C arrays that Swift sees as tuples.
// These two wrappers move one packed RGB24 picture (rows of width·3 bytes, no padding) in or out of a frame.
//
// swscale's SIMD paths may read and write whole vectors past the end of a row (yuv420 → rgb24: valgrind
// shows 8-byte writes past a tightly packed buffer for a 360×640 clip in a plain C program), so a packed
// buffer handed to it directly can be corrupted on widths that are not a multiple of 16. Both
// wrappers go through a staging picture whose rows have AVZ_STAGING_SLACK bytes to spare, with a spare row
// after the last, then copy the rows: swscale only ever touches memory FFmpeg allocated with room to
// spare, and the caller's buffer is read or written exactly width·3·height bytes.
#define AVZ_STAGING_ALIGN 64
// Room past each row for a whole 64-pixel block of 4-byte pixels: more than any vector path writes.
#define AVZ_STAGING_SLACK 256
static inline int avz_staging_stride(int width_bytes) {
    return (width_bytes + AVZ_STAGING_SLACK + AVZ_STAGING_ALIGN - 1) / AVZ_STAGING_ALIGN * AVZ_STAGING_ALIGN;
}
/// A staging buffer for avz_scale_frame_to_packed / avz_scale_packed_to_frame (free with av_free).
static inline uint8_t *avz_staging_alloc(int width, int height) {
    if (width <= 0 || height <= 0 || width > (INT_MAX - AVZ_STAGING_SLACK - AVZ_STAGING_ALIGN) / 3) return NULL;
    size_t stride = (size_t)avz_staging_stride(width * 3);
    return (uint8_t *)av_mallocz(stride * ((size_t)height + 1));
}
static inline int avz_scale_frame_to_packed(struct SwsContext *sws, const AVFrame *src, uint8_t *staging,
                                            uint8_t *dst, int width, int height) {
    int stride = avz_staging_stride(width * 3);
    uint8_t *dst_planes[4] = { staging, NULL, NULL, NULL };
    int dst_strides[4] = { stride, 0, 0, 0 };
    int rows = sws_scale(sws, (const uint8_t * const *)src->data, src->linesize, 0, src->height, dst_planes, dst_strides);
    if (rows != height) return rows;
    for (int y = 0; y < height; y++) memcpy(dst + (size_t)y * width * 3, staging + (size_t)y * stride, (size_t)width * 3);
    return rows;
}
/// Reads width·3 bytes from each of `height` rows `src_stride` bytes apart (a wider source picture may be
/// cropped to an even size this way).
static inline int avz_scale_packed_to_frame(struct SwsContext *sws, const uint8_t *src, int src_stride, uint8_t *staging,
                                            int width, int height, AVFrame *dst) {
    int stride = avz_staging_stride(width * 3);
    for (int y = 0; y < height; y++) memcpy(staging + (size_t)y * stride, src + (size_t)y * src_stride, (size_t)width * 3);
    const uint8_t *src_planes[4] = { staging, NULL, NULL, NULL };
    int src_strides[4] = { stride, 0, 0, 0 };
    return sws_scale(sws, src_planes, src_strides, 0, height, dst->data, dst->linesize);
}
// Audio: resample into a frame's planes from another frame's (swr_convert also takes plane arrays).
static inline int avz_swr_convert_frames(SwrContext *swr, AVFrame *out, int out_count, const AVFrame *in) {
    return swr_convert(swr, out->data, out_count, in ? (const uint8_t **)in->extended_data : NULL, in ? in->nb_samples : 0);
}
static inline int avz_fifo_write_frame(AVAudioFifo *fifo, const AVFrame *f, int count) {
    return av_audio_fifo_write(fifo, (void **)f->data, count);
}
static inline int avz_fifo_read_frame(AVAudioFifo *fifo, AVFrame *f, int count) {
    return av_audio_fifo_read(fifo, (void **)f->data, count);
}
