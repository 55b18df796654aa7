"""No import cycles anywhere in the package: each module can be read without its dependants."""

from __future__ import annotations

import grimp


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = grimp.build_graph("labelloop", exclude_type_checking_imports=True)
    cycles = sorted({
        tuple(sorted((module, imported)))
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if imported != module and graph.chain_exists(importer=imported, imported=module)
    })
    assert cycles == []
