/*
 * Wine 8 has no bcryptprimitives.dll, from which Rust's std (1.78 and later) imports
 * ProcessPrng, so a current Rust .exe does not start under it (STATUS_DLL_NOT_FOUND).
 * ci/wine-run.sh builds this file into a DLL placed beside the .exe. It is used only under
 * Wine; real Windows loads its own bcryptprimitives.dll from System32 first.
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
