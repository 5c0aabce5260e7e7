# cmake -DINPUT=file -DOUTPUT=file.h -DNAME=ident -P embed_text.cmake
# Writes `static const char NAME[] = "...";` holding INPUT's text, so a
# C file can reproduce a header verbatim (the backend copies vitc_abi.h into model.h).
file(READ ${INPUT} text)
string(REPLACE "\\" "\\\\" text "${text}")
string(REPLACE "\"" "\\\"" text "${text}")
string(REPLACE "\n" "\\n\"\n  \"" text "${text}")
file(WRITE ${OUTPUT}.tmp "/* Generated from ${INPUT} by embed_text.cmake; do not edit. */\nstatic const char ${NAME}[] =\n  \"${text}\";\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
