/*
 * fftools/ffprobe.c linked into the same core as ffmpeg: its main and the globals both programs
 * define (the program's name and help) are renamed, and cmdutils is shared. One instance runs one
 * program once (FFmpeg's tools keep global state), so sharing cmdutils' globals is safe.
 */
int ffprobe_main(int argc, char **argv);
#define main ffprobe_main
#define program_name ffprobe_program_name
#define program_birth_year ffprobe_program_birth_year
#define show_help_default ffprobe_show_help_default
#include "ffprobe.c"
