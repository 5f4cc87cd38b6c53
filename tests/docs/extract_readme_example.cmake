# SPDX-License-Identifier: Apache-2.0
# Writes README.md's first ```c block to OUT, preceded by a #line directive so that compiler
# messages name README.md and its line numbers. OUT is only touched when its text changes.
# Usage: cmake -DREADME=README.md -DOUT=readme_example.c -P extract_readme_example.cmake
file(READ "${README}" text)
string(FIND "${text}" "\n```c\n" open)
if(open EQUAL -1)
  message(FATAL_ERROR "${README}: no ```c block (README.md must show a C example)")
endif()
math(EXPR start "${open} + 6")
string(SUBSTRING "${text}" ${start} -1 rest)
string(FIND "${rest}" "\n```" close)
if(close EQUAL -1)
  message(FATAL_ERROR "${README}: the ```c block is not closed")
endif()
string(SUBSTRING "${rest}" 0 ${close} code)
# The code's first line is the line after the fence: count the newlines before it.
string(SUBSTRING "${text}" 0 ${start} before)
string(REGEX REPLACE "[^\n]" "" newlines "${before}")
string(LENGTH "${newlines}" line)
math(EXPR line "${line} + 1")
file(WRITE "${OUT}.tmp" "#line ${line} \"${README}\"\n${code}\n")
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
file(REMOVE "${OUT}.tmp")
