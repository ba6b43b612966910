@echo off
rem Runs the schan test kit and writes report.txt next to this file.
rem Needs nothing but the kit folder: no Python, PowerShell or installation.
rem Exit code 0 when every part passed or was skipped, 1 when one failed.
setlocal
set "KIT=%~dp0"
set "REPORT=%KIT%report.txt"
set "SCHAN_TEST_PKI=%KIT%pki"
set "SCHAN_KIT_TOOLS=%KIT%bin"
set "SCHAN_KIT_REPORT=%REPORT%"
set "FAILED=0"
if not exist "%KIT%logs" mkdir "%KIT%logs"

> "%REPORT%" echo schan Windows test kit report
for /f "delims=" %%v in ('ver') do >> "%REPORT%" echo System: %%v

rem kit_tests lists every case; the other suites list failed and skipped cases only.
call :suite kit_tests "" 1
call :suite core_tests "" ""
call :suite schannel_verification_tests "--gtest_filter=-Revocation.*" ""
>> "%REPORT%" echo skipped  Revocation.*: these cases need a CRL server that Python runs (tests/schannel/crl_server.py)

>> "%REPORT%" echo.
if "%FAILED%"=="0" goto passed
>> "%REPORT%" echo Result: FAILED. The failed lines above name each case and its status; logs\ has the full output.
goto finish
:passed
>> "%REPORT%" echo Result: passed. Skipped lines name what this system cannot run.
:finish
type "%REPORT%"
exit /b %FAILED%

rem :suite NAME ARGUMENTS LIST_PASSED runs bin\NAME.exe with ARGUMENTS and
rem its output in logs\NAME.log; the suite appends its own lines to the report.
:suite
set "SCHAN_KIT_PROGRAM=%~1"
set "SCHAN_KIT_REPORT_PASSED=%~3"
>> "%REPORT%" echo.
>> "%REPORT%" echo == %~1
"%KIT%bin\%~1.exe" --gtest_color=no %~2 > "%KIT%logs\%~1.log" 2>&1
set "CODE=%ERRORLEVEL%"
if "%CODE%"=="0" goto :eof
set "FAILED=1"
>> "%REPORT%" echo failed   %~1 exited with code %CODE%; see logs\%~1.log
goto :eof
