"""UI strings, by language. French and English are complete; others fall back to English."""

from __future__ import annotations

NBSP = "\u00a0"
NNBSP = "\u202f"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "copy": "Copy",
        "run": "Run",
        "copy_label": "Copy the command",
        "run_label": "Run the command in the terminal",
        "output_label": "Expected output",
        "wild": "varies with your environment",
        "wild_lines": "lines that vary with your environment",
        "copied": "Copied!",
        "copy_failed": "Could not copy: select the command and copy it by hand.",
        "run_fallback": "No terminal is connected: the command was copied. "
        "Paste it into your terminal and press Enter.",
        "busy": "Running…",
        "unset": "Value to fill in: {name}",
        "values_title": "Your values",
        "values_help": "Type your own values: the commands on every page use them.",
        "terminal": "Terminal",
        "terminal_close": "Close the terminal",
        "terminal_resize": "Resize the terminal (drag, or arrow keys)",
        "terminal_keys": "Shift+Tab: leave the terminal",
        "terminal_unreachable": "The terminal cannot be reached: the command was copied instead.",
        "missing": "Fill in {names} under “Your values” first; the command follows.",
        "no_host": "This terminal has no host {n}: the command was copied instead.",
        "stamp_verified": "Verified on {date} against {environment}.",
        "stamp_failed": "Verification failed on {date} against {environment}.",
        "stamp_unverified": "Not verified.",
        "stamp_changed": " The page changed after the check of {date}.",
        "stamp_nothing_ran": " No block could run on {date}.",
        "stamp_failures": " {count} block failed.| {count} blocks failed.",
        "stamp_ran": "{count} block ran;|{count} blocks ran;",
        "stamp_skipped": "{count} did not: {reasons}.|{count} did not: {reasons}.",
        "stamp_reason_requires": "{argument} is not installed",
        "stamp_reason_check": "{argument} failed",
        "stamp_reason_not_run": "{argument} is for a live terminal",
        "stamp_reason_earlier_failure": "an earlier block failed",
        "stamp_reason_setup_failed": "the page's setup failed",
        "stamp_reason_condition": "not for this environment ({argument})",
    },
    "fr": {
        "copy": "Copier",
        "run": "Exécuter",
        "copy_label": "Copier la commande",
        "run_label": "Exécuter la commande dans le terminal",
        "output_label": "Sortie attendue",
        "wild": "varie selon votre environnement",
        "wild_lines": "des lignes qui varient selon votre environnement",
        "copied": f"Copié{NNBSP}!",
        "copy_failed": f"Copie impossible{NBSP}: sélectionnez la commande et copiez-la à la main.",
        "run_fallback": f"Aucun terminal n’est connecté{NBSP}: la commande a été copiée. "
        "Collez-la dans votre terminal, puis appuyez sur Entrée.",
        "busy": "Exécution en cours…",
        "unset": f"Valeur à renseigner{NBSP}: {{name}}",
        "values_title": "Vos valeurs",
        "values_help": f"Saisissez vos propres valeurs{NBSP}: les commandes de toutes les pages les utilisent.",
        "terminal": "Terminal",
        "terminal_close": "Fermer le terminal",
        "terminal_resize": "Redimensionner le terminal (glisser, ou flèches)",
        "terminal_keys": f"Maj+Tab{NBSP}: quitter le terminal",
        "terminal_unreachable": f"Le terminal est injoignable{NBSP}: la commande a été copiée à la place.",
        "missing": f"Renseignez d’abord {{names}} dans «{NBSP}Vos valeurs{NBSP}»{NNBSP}; la commande suivra.",
        "no_host": f"Ce terminal n’a pas d’hôte {{n}}{NBSP}: la commande a été copiée à la place.",
        "stamp_verified": "Vérifié le {date} sur {environment}.",
        "stamp_failed": "Échec de la vérification du {date} sur {environment}.",
        "stamp_unverified": "Non vérifié.",
        "stamp_changed": " La page a changé depuis la vérification du {date}.",
        "stamp_nothing_ran": " Aucun bloc n’a pu être exécuté le {date}.",
        "stamp_failures": " {count} bloc en échec.| {count} blocs en échec.",
        "stamp_ran": f"{{count}} bloc exécuté{NBSP};|{{count}} blocs exécutés{NBSP};",
        "stamp_skipped": f"{{count}} non exécuté{NBSP}: {{reasons}}.|{{count}} non exécutés{NBSP}: {{reasons}}.",
        "stamp_reason_requires": "{argument} n’est pas installé",
        "stamp_reason_check": "{argument} a échoué",
        "stamp_reason_not_run": "{argument} est réservé à un terminal interactif",
        "stamp_reason_earlier_failure": "un bloc précédent a échoué",
        "stamp_reason_setup_failed": "la préparation de la page a échoué",
        "stamp_reason_condition": "sans objet dans cet environnement ({argument})",
    },
}


def strings_for(language: str | None) -> dict[str, str]:
    """Strings for a theme language such as `fr`, `fr_CA` or `en-GB`, falling back to English."""
    base = (language or "en").replace("-", "_").split("_")[0].lower()
    return {**STRINGS["en"], **STRINGS.get(base, {})}
