/* fftools/ffmpeg.c with its main renamed: the core exports it as ffmpeg_main beside ffprobe_main. */
int ffmpeg_main(int argc, char **argv);
#define main ffmpeg_main
#include "ffmpeg.c"
