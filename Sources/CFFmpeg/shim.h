// Swift cannot import function-like macros; these inline wrappers expose the few FFmpeg needs.
#pragma once
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
// These two wrappers move one packed RGB24 buffer in or out of a frame.
static inline int avz_scale_frame_to_packed(struct SwsContext *sws, const AVFrame *src, uint8_t *dst, int dst_stride) {
    uint8_t *dst_planes[4] = { dst, NULL, NULL, NULL };
    int dst_strides[4] = { dst_stride, 0, 0, 0 };
    return sws_scale(sws, (const uint8_t * const *)src->data, src->linesize, 0, src->height, dst_planes, dst_strides);
}
static inline int avz_scale_packed_to_frame(struct SwsContext *sws, const uint8_t *src, int src_stride, int src_height, AVFrame *dst) {
    const uint8_t *src_planes[4] = { src, NULL, NULL, NULL };
    int src_strides[4] = { src_stride, 0, 0, 0 };
    return sws_scale(sws, src_planes, src_strides, 0, src_height, dst->data, dst->linesize);
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
